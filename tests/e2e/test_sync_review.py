"""The Sync review queue in the browser: a near-duplicate customer waits for a person, who
dismisses it with a reason; it leaves the queue and stays gone after a reload."""

from connections.sync.customers import run_customer_sync
from connections.sync.models import ConflictStatus, SyncConflict
from tests.sandbox.conftest import sandbox_db

from .conftest import expect, screenshot

pytestmark = sandbox_db

REASON = "A different firm with a similar name; the contractor confirmed it"


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

    page.get_by_label("Note (required to dismiss or leave it unsynced)").fill(REASON)
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
