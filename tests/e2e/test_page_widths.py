"""Every main page fits the screen with realistic, unkind data: long client names, a
2,000-character dismissal reason, a long sync error, findings in many currencies. At 390 px
(a phone) and 1,280 px (a laptop) the page itself never scrolls sideways; wide tables turn
into cards or scroll in their own box."""

from datetime import date, timedelta
from decimal import Decimal

import pytest
from django.core.management import call_command
from django.utils import timezone

from reconciliation.fixes import do_dismiss
from reconciliation.models import Finding, Reconciliation
from sandbox.generator import generate
from sync.models import SyncConflict, SyncRun, SyncSettings
from tests.factories import ClientFactory
from tests.sandbox.conftest import sandbox_db

from .conftest import connect_generated_book, expect, log_in, screenshot

pytestmark = sandbox_db

WIDE = "document.documentElement.scrollWidth - document.documentElement.clientWidth"
# The elements sticking out past the screen (outside any box that scrolls on its own), so
# a failure names what to fix.
OFFENDERS = """() => {
  const edge = document.documentElement.clientWidth;
  const scrolls = (el) => {
    for (let p = el.parentElement; p; p = p.parentElement) {
      if (['auto', 'scroll'].includes(getComputedStyle(p).overflowX)) return true;
    }
    return false;
  };
  const out = (el) => el.getBoundingClientRect().right > edge + 0.5 && !scrolls(el);
  const spills = (el) => el.scrollWidth > el.clientWidth + 1
    && getComputedStyle(el).overflowX === 'visible';
  const name = (el) => `${el.tagName.toLowerCase()}.${el.className}`;
  const all = [...document.querySelectorAll('body *')];
  return all.filter(out).slice(0, 5).map((el) => `${name(el)} ends past the screen`)
    .concat(all.filter(spills).slice(0, 5).map((el) => `${name(el)} spills its content`));
}"""
LONG_NAME = (
    "Northwestern Metropolitan Roofing, Guttering & Historic Slate Restoration Services "
    "(Commercial and Residential Division) LLC"
)
UNBROKEN = "Supercalifragilisticexpialidocious-Renovations-" * 3  # one word, no spaces
CURRENCIES = ("EUR", "GBP", "CAD", "AUD", "CHF", "JPY", "NZD", "SEK")


def unkind_data(two_firms, sandbox) -> Reconciliation:
    """Firm A's client, renamed long, with a reconciled generated book, a dismissal with the
    longest reason allowed, a failed sync with a long error and a conflict with a long
    reason; and one more client per currency, each with a finding of its own."""
    client = two_firms.client_a
    client.name = LONG_NAME
    client.save()
    today = timezone.now().astimezone(client.tzinfo).date()
    connect_generated_book(client, sandbox, generate(40, seed=4, today=today), "Wide books")
    last_month = (today.replace(day=1) - timedelta(days=1)).strftime("%Y-%m")
    call_command("reconcile", client.slug, "--period", last_month)  # the chart has two months
    call_command("reconcile", client.slug, "--period", f"{today:%Y-%m}")
    recon = Reconciliation.objects.filter(client=client).latest("period")
    dismissed = Finding.objects.filter(client=client).first()
    do_dismiss(two_firms.owner_a, dismissed, (UNBROKEN + " because ") * 12)
    SyncRun.objects.create(
        client=client, kind="manual", status="failed", error=("QuickBooks refused " + UNBROKEN)
    )
    SyncConflict.objects.create(
        client=client,
        kind="near_match",
        crm_type="companies",
        crm_id="1",
        reason="Similar name: " + UNBROKEN,
        crm_value={"display_name": UNBROKEN, "email": f"{UNBROKEN}@example.com"},
        accounting_value={"display_name": LONG_NAME, "email": "office@example.com"},
        evidence={  # the card's table of what each field counted, with unbroken values
            "probability": 0.42,
            "other": "QuickBooks",
            "summary": f"Looks like QuickBooks customer “{LONG_NAME}”.",
            "note": "",
            "fields": [
                {"field": "name", "level": "somewhat alike", "alike": 80, "weight": 3.2},
                {"field": "email", "level": "differs", "alike": None, "weight": -2.7},
            ],
        },
    )
    for n, currency in enumerate(CURRENCIES):
        other = ClientFactory(
            firm=two_firms.firm_a, name=f"{UNBROKEN[:40]} {currency} {n}", slug=f"wide-{n}"
        )
        SyncSettings.objects.filter(pk=SyncSettings.for_client(other).pk).update(
            books_currency=currency
        )
        month = Reconciliation.objects.create(client=other, period=date(2026, 10, 1), status="done")
        Finding.objects.create(
            client=other, reconciliation=month, key=f"w{n}", code="stale_open_invoice",
            severity="high", amount=Decimal("123456789.12"), currency=currency,
            direction="AR overstated", reason=f"Invoice {UNBROKEN} is open", fix={},
            fingerprint=f"w{n}", first_period=month.period, last_period=month.period,
        )  # fmt: skip
    return recon


@pytest.mark.parametrize("width", [390, 1280])
def test_no_main_page_scrolls_sideways_with_long_data(
    new_context, two_firms, live_server, sandbox, width
):
    recon = unkind_data(two_firms, sandbox)
    slug = two_firms.client_a.slug
    context = new_context()
    log_in(context, two_firms.owner_a, live_server)
    page = context.new_page()
    page.set_viewport_size({"width": width, "height": 900})
    wide = {}
    for name, url, heading in (
        ("dashboard", "/", "Clients"),
        ("findings", "/review/findings/", "Findings"),
        ("dismissed", "/review/findings/?status=dismissed", "Findings"),
        ("report", f"/clients/{slug}/reconciliations/{recon.pk}/", None),
        ("client", f"/clients/{slug}/", LONG_NAME),
        ("customer-sync", f"/clients/{slug}/sync/", "Customer sync"),
        ("sync-settings", f"/clients/{slug}/sync/settings/", "Sync settings"),
        ("sync-review", "/review/conflicts/", None),
    ):
        page.goto(url)
        if heading:
            expect(page.get_by_role("heading", level=1)).to_contain_text(heading)
        screenshot(page, f"width-{width}-{name}")
        if page.evaluate(WIDE) > 0:
            wide[name] = page.evaluate(OFFENDERS)
        if name == "dismissed":  # the 2,000-character reason: its start, the rest on demand
            reason = page.locator("summary").filter(has_text=UNBROKEN[:40]).first
            expect(reason).to_be_visible()
            reason.click()
            expect(page.get_by_text(UNBROKEN + " because " + UNBROKEN)).to_be_visible()
        if name == "client":  # the chart takes the width it is given (it was half on a phone)
            chart = page.get_by_role("img", name="Findings and amounts found")
            ratio = chart.evaluate(
                "svg => svg.getBoundingClientRect().width / svg.closest('main').clientWidth"
            )
            assert ratio > (0.8 if width == 390 else 0.5), ratio
    assert wide == {}, f"pages wider than {width} px: {wide}"
