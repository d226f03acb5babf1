"""Review cards of pairs that looked sure yet wait for a person because of a name: a record
with nothing but a name that two customers bear, and a company QuickBooks cannot create
because a customer already holds its name. Each card says why in words and shows what each
field counted, against every customer the name points to. Real runs against the sandbox
over HTTP; the review page through the Django test client."""

import html
import re

from django.urls import reverse

from sync.customers import run_customer_sync
from sync.models import ConflictKind, SyncConflict

from .sandbox.conftest import sandbox_db

pytestmark = sandbox_db


def text_of(page: str) -> str:
    return html.unescape(re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", page)))


def card_of(client, user, conflict: SyncConflict) -> str:
    client.force_login(user)
    page = client.get(reverse("review_conflicts")).content.decode()
    start = page.index(f'id="conflict-{conflict.pk}"')
    return text_of(page[start : page.index("</article>", start)])


def test_a_name_two_customers_bear_shows_the_record_against_each(systems, client, two_firms):
    """GIVEN two customers of the books named Valerie Johnson (other emails, other postal
    codes), and a CRM contact with nothing but that name
    WHEN sync runs
    THEN it waits for a person; the card says only the name could be compared and which
    other customer bears it, and has a table against each of the two."""
    first = systems.qbo_customer(
        "Johnson, Valerie", GivenName="Valerie", FamilyName="Johnson",
        PrimaryEmailAddr={"Address": "val@mail.example"}, BillAddr={"PostalCode": "80202"},
    )  # fmt: skip
    second = systems.qbo_customer(
        "Valerie Johnson", GivenName="Valerie", FamilyName="Johnson",
        PrimaryEmailAddr={"Address": "vj@mail.example"}, BillAddr={"PostalCode": "10001"},
    )  # fmt: skip
    systems.contact(firstname="Valerie", lastname="Johnson")

    run = run_customer_sync(systems.client)

    assert run.counts.get("held") == 1 and run.counts.get("linked", 0) == 0, run.counts
    item = SyncConflict.objects.get(kind=ConflictKind.NEAR_MATCH)
    # The two are equally likely: the card is about either, and names the other.
    names = {str(first.Id): "Johnson, Valerie", str(second.Id): "Valerie Johnson"}
    assert item.accounting_id in names
    one = names[item.accounting_id]
    other_id = next(i for i in names if i != item.accounting_id)
    other = names[other_id]
    assert f"Also named so: “{other}” (id {other_id})." in item.reason
    card = card_of(client, two_firms.accountant_a, item)
    assert (
        f"Looks like QuickBooks customer “{one}”, but only the name could be "
        f"compared, and another customer bears it too: “{other}” (id {other_id}). "
        f"Same customer as “{one}”, or a new one?"
    ) in card
    assert "likely the same customer — only the name could be compared" in card
    # One table per customer bearing the name, each with that customer's own values.
    assert card.count("Field CRM QuickBooks") == 2
    assert f"Field CRM QuickBooks “{one}” How they agree Counts" in card
    assert f"Against QuickBooks “{other}”: 99.9 % likely the same customer" in card
    assert f"Field CRM QuickBooks “{other}” How they agree Counts" in card
    assert card.count("First name Valerie Valerie equal for +") == 2
    assert card.count("Last name Johnson Johnson equal for +") == 2
    assert "Email — val@mail.example missing on one side — no evidence nothing" in card
    assert "Email — vj@mail.example missing on one side — no evidence nothing" in card
    assert "Place — 10001 missing on one side" in card


def test_a_name_quickbooks_already_gives_another_customer_shows_what_each_field_said(
    systems, client, two_firms
):
    """GIVEN Oak Ridge Homes in the books, and a CRM company of that name whose phone,
    street and town are all others
    WHEN sync runs (the create clashes on the name)
    THEN the item says why in words, and its card has each field's contribution against
    the customer holding the name."""
    place = {"Line1": "12 Oak Street", "City": "Austin", "PostalCode": "78704"}
    oak = systems.qbo_customer(
        "Oak Ridge Homes", CompanyName="Oak Ridge Homes",
        PrimaryEmailAddr={"Address": "office@oakridgehomes.example"},
        PrimaryPhone={"FreeFormNumber": "512-555-0178"}, BillAddr=place,
    )  # fmt: skip
    systems.company(name="Oak Ridge Homes", phone="415-555-0101", address="900 Market St",
                    city="San Francisco", zip="94103")  # fmt: skip

    run = run_customer_sync(systems.client)

    assert run.counts.get("held") == 1 and run.counts.get("created", 0) == 0, run.counts
    item = SyncConflict.objects.get(kind=ConflictKind.NAME_CLASH)
    card = card_of(client, two_firms.accountant_a, item)
    assert (
        f"QuickBooks already has a customer named 'Oak Ridge Homes' (id {oak.Id}) that does "
        "not look like the same one: link to it, or rename one of them"
    ) in card
    assert "likely the same company — QuickBooks keeps one customer per name" in card
    assert "Name Oak Ridge Homes Oak Ridge Homes equal for +" in card
    assert "Phone +14155550101 512-555-0178 differs against \N{MINUS SIGN}" in card
    assert "Address 900 Market St 12 Oak Street differs against \N{MINUS SIGN}" in card
    assert "Place San Francisco, 94103 Austin, 78704 differs against \N{MINUS SIGN}" in card
    assert "side-by-side" not in card  # the table says it all
