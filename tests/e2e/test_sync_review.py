"""The Sync review queue in the browser: a near-duplicate customer waits for a person, who
dismisses it with a reason; it leaves the queue and stays gone after a reload."""

import re

from sync.customers import run_customer_sync
from sync.models import ConflictStatus, SyncConflict
from tests.sandbox.conftest import sandbox_db

from .conftest import SCREENSHOTS, expect, screenshot
from .test_page_widths import OFFENDERS, WIDE

pytestmark = sandbox_db

REASON = "A different firm with a similar name; the contractor confirmed it"


def card_at(page, width: int, words: str):
    """The review queue at this screen width, and the card that says these words."""
    page.set_viewport_size({"width": width, "height": 900})
    page.goto("/review/conflicts/")
    return page.locator("article.conflict").filter(has_text=words)


def test_a_near_match_dismissed_with_a_reason_leaves_the_queue(systems, accountant_page):
    page = accountant_page
    systems.qbo_customer("Granite Renovations", BillAddr={"PostalCode": "78704"})
    systems.company(name="Granite Renovation Co", zip="78799")
    run_customer_sync(systems.client)

    page.goto("/")
    page.get_by_role("navigation", name="Main").get_by_role("link", name="Sync review").click()
    main = page.get_by_role("main")
    expect(main).to_contain_text("Possible existing customer")
    expect(main).to_contain_text("Granite Renovations")
    expect(main).to_contain_text("Granite Renovation Co")
    screenshot(page, "sync-review")

    dismiss = page.get_by_role("button", name="Leave it unsynced")
    dismiss.click()  # no reason yet: refused, nothing decided
    expect(page.get_by_role("alert")).to_contain_text("Say why")
    assert SyncConflict.objects.get().status == ConflictStatus.OPEN

    expect(main).to_contain_text("Counts: how strongly each field says")
    page.get_by_label("Note (required for “Leave it unsynced”)").fill(REASON)
    dismiss.click()

    expect(main).to_contain_text("Leave it unsynced by accountant@alpha.test")
    expect(page.locator("#conflicts-waiting")).to_have_text("0")  # the count, in place
    expect(main).to_contain_text(REASON)
    expect(page.get_by_role("button", name="Leave it unsynced")).to_have_count(0)
    screenshot(page, "sync-review-after-dismiss")
    conflict = SyncConflict.objects.get()
    assert conflict.status == ConflictStatus.DISMISSED and conflict.note == REASON

    page.reload()
    expect(main).to_contain_text("Nothing waits for a decision")
    expect(main).not_to_contain_text("Granite Renovation Co")


def test_the_cards_say_what_each_field_counted_on_a_phone_and_a_laptop(systems, accountant_page):
    """A company and a namesake homeowner that may be customers already: each card a table
    of the fields, one card per field on a phone, never wider than the screen."""
    page = accountant_page
    systems.qbo_customer(
        "Ann Lee",
        GivenName="Ann",
        FamilyName="Lee",
        PrimaryEmailAddr={"Address": "ann@leefamily.example"},
        PrimaryPhone={"FreeFormNumber": "512-555-0177"},
        BillAddr={"Line1": "12 Oak Street", "City": "Austin", "PostalCode": "78704"},
    )
    systems.contact(
        firstname="Ann", lastname="Lee", email="ann@othermail.example", phone="415-555-0100",
        address="900 Market St", city="San Francisco", zip="94103",
    )  # fmt: skip
    systems.qbo_customer("Granite Renovations", BillAddr={"PostalCode": "78704"})
    systems.company(name="Granite Renovation Co", zip="78799", phone="512-555-0188")
    run_customer_sync(systems.client)

    for width in (1280, 390):
        person = card_at(page, width, "contact Ann Lee")
        expect(person).to_contain_text("likely the same customer")
        for words in ("First name", "equal", "for +", "Email", "differs", "against"):
            expect(person.get_by_role("table")).to_contain_text(words)
        company = page.locator("article.conflict").filter(has_text="Granite Renovation Co")
        expect(company).to_contain_text("likely the same company")
        expect(company.get_by_role("table")).to_contain_text("missing on one side — no evidence")
        screenshot(page, f"sync-review-evidence-{width}")
        person.screenshot(path=str(SCREENSHOTS / f"sync-review-evidence-card-{width}.png"))
        assert page.evaluate(WIDE) <= 0, page.evaluate(OFFENDERS)


def test_a_name_two_customers_bear_shows_a_table_against_each(systems, accountant_page):
    """A contact with nothing but a name that two customers bear, and a company whose name
    QuickBooks already gives another customer: each card says why in words, with a table
    per customer the name points to, never wider than a phone's screen."""
    page = accountant_page
    for name, email, postal in (("Johnson, Valerie", "val@mail.example", "80202"),
                                ("Valerie Johnson", "vj@mail.example", "10001")):  # fmt: skip
        systems.qbo_customer(
            name, GivenName="Valerie", FamilyName="Johnson",
            PrimaryEmailAddr={"Address": email}, BillAddr={"PostalCode": postal},
        )  # fmt: skip
    systems.contact(firstname="Valerie", lastname="Johnson")
    systems.qbo_customer(
        "Oak Ridge Homes", CompanyName="Oak Ridge Homes",
        PrimaryEmailAddr={"Address": "office@oakridgehomes.example"},
        PrimaryPhone={"FreeFormNumber": "512-555-0178"},
        BillAddr={"Line1": "12 Oak Street", "City": "Austin", "PostalCode": "78704"},
    )  # fmt: skip
    systems.company(name="Oak Ridge Homes", phone="415-555-0101", address="900 Market St",
                    city="San Francisco", zip="94103")  # fmt: skip
    run_customer_sync(systems.client)

    for width in (1280, 390):
        person = card_at(page, width, "contact Valerie Johnson")
        # The two namesakes are equally likely: the card is about either and names the other.
        expect(person).to_contain_text(
            re.compile(r"another customer bears it too: “(Valerie Johnson|Johnson, Valerie)”")
        )
        expect(person.get_by_role("table")).to_have_count(2)
        expect(person).to_contain_text(
            re.compile(r"Against QuickBooks “(Valerie Johnson|Johnson, Valerie)”")
        )
        clash = page.locator("article.conflict").filter(has_text="Oak Ridge Homes")
        expect(clash).to_contain_text("QuickBooks keeps one customer per name")
        expect(clash.get_by_role("table")).to_contain_text("differs")
        person.screenshot(path=str(SCREENSHOTS / f"sync-review-namesakes-{width}.png"))
        clash.screenshot(path=str(SCREENSHOTS / f"sync-review-name-clash-{width}.png"))
        assert page.evaluate(WIDE) <= 0, page.evaluate(OFFENDERS)
