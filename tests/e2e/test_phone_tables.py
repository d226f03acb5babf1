"""On a phone (390 px) a wide table never pushes the page sideways: a sync run's records,
a month's customer balances and the staff list scroll in their own box, and the first
column (the outcome, the customer, the person) stays in view while the rest scrolls."""

from django.core.management import call_command
from django.utils import timezone

from sandbox.generator import generate
from sync.models import SyncRun
from tests.sandbox.conftest import sandbox_db

from .conftest import connect_generated_book, expect, screenshot

pytestmark = sandbox_db

WIDE = "document.documentElement.scrollWidth - document.documentElement.clientWidth"
# Scroll the table's box to its end; then where its first header cell and a first body cell
# sit, against the box's left edge.
SCROLL_TO_END = """table => {
  const box = table.closest('.table-scroll');
  box.scrollLeft = box.scrollWidth;
  const left = box.getBoundingClientRect().left;
  const first = table.querySelector('tbody tr > :first-child').getBoundingClientRect();
  return {scrolled: box.scrollLeft, first: first.left - left, width: first.width};
}"""


def test_wide_tables_scroll_in_their_box_with_the_first_column_kept_on_a_phone(
    accountant_page, two_firms, sandbox
):
    client, page = two_firms.client_a, accountant_page
    today = timezone.now().astimezone(client.tzinfo).date()
    connect_generated_book(client, sandbox, generate(40, seed=4, today=today), "Phone tables")
    call_command("reconcile", client.slug, "--period", f"{today:%Y-%m}")
    run = SyncRun.objects.filter(client=client).latest("pk")

    page.set_viewport_size({"width": 390, "height": 844})
    scrolled = {}
    for name, url, column in (
        ("run-records", f"/clients/{client.slug}/sync/runs/{run.pk}/", "Outcome"),
        ("balances", f"/clients/{client.slug}/balances/{today:%Y-%m}/", "Customer"),
        ("staff", "/staff/", "Person"),
    ):
        page.goto(url)
        table = page.get_by_role("table").filter(
            has=page.get_by_role("columnheader", name=column, exact=True)
        )
        expect(table).to_be_visible()
        assert page.evaluate(WIDE) <= 0, f"{name} scrolls sideways at 390 px"
        where = table.evaluate(SCROLL_TO_END)
        screenshot(page, f"phone-table-{name}")
        scrolled[name] = where["scrolled"]
        if where["scrolled"]:  # wider than the phone: the first column did not scroll away
            assert abs(where["first"]) < 1 and where["width"] > 30, (name, where)
    assert scrolled["balances"] and scrolled["run-records"], scrolled  # wider than a phone
