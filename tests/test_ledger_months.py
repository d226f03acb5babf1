"""November, then December, then November again, through the sandbox: a generated book with
one planted problem of each kind, reconciled three times by the management command, read back
from every place that counts findings. Each planted problem is one finding, open since
November for two months, counted once in the ledger, the kept totals, the dashboard, the
findings queue, the client page and its chart, each month's report page and CSV, the emailed
report and the API."""

import csv
import io
import json
from datetime import date, timedelta
from decimal import Decimal
from html.parser import HTMLParser

import pytest
from django.core.management import call_command
from django.urls import reverse
from rest_framework.test import APIClient

from reconciliation.models import Finding, FindingStatus, OpenTotals, Reconciliation
from reconciliation.names import describe_all
from sandbox.generator import FINDING_CODES, generate
from sync.customers import run_customer_sync
from sync.models import RunKind, SyncSettings

from .sandbox.conftest import sandbox_db
from .test_api import token_for
from .written_books import write_and_connect

pytestmark = sandbox_db

NOV, DEC = date(2026, 11, 1), date(2026, 12, 1)
NOV_END = date(2026, 11, 30)


class Tables(HTMLParser):
    """Every table of a page as rows of cell texts, and the SVG chart's description."""

    def __init__(self, html: str) -> None:
        super().__init__()
        self.tables: list[list[list[str]]] = []
        self.chart = ""
        self._cell: list[str] | None = None
        self._in_desc = False
        self.feed(html)

    def handle_starttag(self, tag: str, attrs) -> None:
        if tag == "table":
            self.tables.append([])
        elif tag == "tr" and self.tables:
            self.tables[-1].append([])
        elif tag in ("td", "th") and self.tables:
            self._cell = []
        elif tag == "br" and self._cell is not None:
            self._cell.append(" ")
        elif tag == "desc":
            self._in_desc = True

    def handle_endtag(self, tag: str) -> None:
        if tag in ("td", "th") and self._cell is not None:
            self.tables[-1][-1].append(" ".join("".join(self._cell).split()))
            self._cell = None
        elif tag == "desc":
            self._in_desc = False

    def handle_data(self, data: str) -> None:
        if self._cell is not None:
            self._cell.append(data)
        if self._in_desc:
            self.chart += data

    def table_with(self, header: str) -> list[list[str]]:
        """The body rows of the table whose first row names `header`."""
        for table in self.tables:
            if table and header in table[0]:
                return table[1:]
        raise AssertionError(f"no table with a {header!r} column")


def usd(amount: Decimal) -> str:
    return f"{amount:,.2f} USD"


def about(planted: dict, code: str, deal_id: str, invoice_ids) -> bool:
    """Whether a finding (its code, deal and invoices) is the planted problem."""
    return code == planted["code"] and (
        (bool(planted["deal_id"]) and deal_id == planted["deal_id"])
        or bool(set(invoice_ids) & set(planted["invoice_ids"]))
    )


def each_planted_once(key: list[dict], rows: list[tuple[str, str, list]], where: str) -> None:
    """rows: (code, deal_id, invoice_ids) as a total lists them."""
    for planted in key:
        matches = [r for r in rows if about(planted, *r)]
        assert len(matches) == 1, (where, planted, matches)


@pytest.fixture
def book(two_firms, sandbox, request):
    """Firm A's client on a generated book whose planted problems all date from November, in
    QuickBooks unless the test asks for other books (`indirect` parametrization)."""
    generated = generate(40, seed=4, today=date(2026, 11, 15))
    client = two_firms.client_a
    books = getattr(request, "param", "quickbooks")
    written = write_and_connect(client, sandbox, generated, "Ledger books", books)
    run_customer_sync(client, kind=RunKind.IMPORT, full=True)
    run_customer_sync(client, kind=RunKind.SCHEDULED)
    return written


@pytest.mark.parametrize("book", ["quickbooks", "xero"], indirect=True)
def test_november_december_november_counts_each_planted_problem_once_everywhere(
    two_firms, book, client, mailoutbox, capsys
):
    """GIVEN a book with one planted problem of each kind, dated in November
    WHEN November, December, then November again are reconciled (each report emailed)
    THEN each planted problem is one finding, first seen in November and open two months,
    and every total — ledger, kept totals, dashboard, queue, client page and chart, each
    month's report and CSV, the emails, the API — counts it once."""
    customer = two_firms.client_a
    key = book.answer_key
    assert {p["code"] for p in key} == set(FINDING_CODES)
    runs = []
    for period in ("2026-11", "2026-12", "2026-11"):
        call_command("reconcile", customer.slug, "--period", period, "--email", "--json")
        runs.append(json.loads(capsys.readouterr().out))
    assert [r["status"] for r in runs] == ["done"] * 3, runs
    third = Reconciliation.objects.filter(client=customer).order_by("started_at").last()
    assert third.counts["ledger_rows_written"] == 0  # November again: nothing new to write

    # The ledger: one finding per planted problem, open since November, two months.
    ledger = list(Finding.objects.filter(client=customer))
    each_planted_once(key, [(f.code, f.deal_id, f.invoice_ids) for f in ledger], "ledger")
    planted = [f for f in ledger if any(about(p, f.code, f.deal_id, f.invoice_ids) for p in key)]
    assert len(planted) == len(key)
    assert {(f.status, f.first_period, f.last_period, f.months_open) for f in planted} == {
        (FindingStatus.OPEN, NOV, DEC, 2)
    }
    # Anything else is a problem December sees and November could not: an invoice that
    # grew stale between November's end and today (none in this book, but the clock moves).
    stale_after = SyncSettings.for_client(customer).stale_after_days
    extra = [f for f in ledger if f not in planted]
    for f in extra:
        dated = date.fromisoformat(f.records["invoices"][0][3])
        assert f.code == "stale_open_invoice" and f.first_period == DEC, f
        assert dated + timedelta(days=stale_after) > NOV_END, f
    month_count = {NOV: len(planted), DEC: len(planted) + len(extra)}
    month_amount = {
        NOV: sum((f.amount for f in planted), Decimal("0.00")),
        DEC: sum((f.amount for f in planted + extra), Decimal("0.00")),
    }
    count, at_stake = month_count[DEC], month_amount[DEC]  # open now: what December saw

    kept = OpenTotals.objects.get(client=customer)
    assert (kept.count, kept.amount) == (count, at_stake)
    assert kept.by_currency == {"USD": [count, str(at_stake)]}

    client.force_login(two_firms.accountant_a)
    # The dashboard: the firm's figure and the client's row.
    dashboard = client.get(reverse("dashboard")).content.decode()
    assert f"Review {count} findings" in dashboard
    row = next(r for r in Tables(dashboard).table_with("Client") if r[0] == customer.name)
    assert row[2:4] == [usd(at_stake), str(count)], row

    # The findings queue's header, for the firm and for the client.
    for query in ("", f"?client={customer.slug}"):
        queue = client.get(reverse("review_findings") + query).content.decode()
        assert f"<strong>{count}</strong> open findings" in queue
        assert f'<strong class="num">{usd(at_stake)}</strong> at stake' in queue

    # The client page: its figures, a row per run, the chart a point per month.
    page = client.get(reverse("client_detail", args=[customer.slug])).content.decode()
    assert f"Review {count} findings" in page and usd(at_stake) in page
    tables = Tables(page)
    history = tables.table_with("Open at month end")
    # Newest first: November's second run shows the month; its first says it was replaced.
    assert [(r[0], r[2], r[3]) for r in history[:2]] == [
        ("November 2026", str(month_count[NOV]), usd(month_amount[NOV])),
        ("December 2026", str(month_count[DEC]), usd(month_amount[DEC])),
    ]
    assert history[2][0] == "November 2026"
    assert "replaced by a later run of November 2026" in history[2][2]
    assert tables.chart.split(". ")[:2] == [
        f"Nov 2026: {month_count[NOV]} findings, {usd(month_amount[NOV])}",
        f"Dec 2026: {month_count[DEC]} findings, {usd(month_amount[DEC])}",
    ]

    # Each run's report, page and CSV; the emails, one per run.
    recons = list(Reconciliation.objects.filter(client=customer).order_by("started_at"))
    assert len(mailoutbox) == 3
    described = list(Finding.objects.filter(client=customer).select_related("client"))
    describe_all(described)
    by_words: dict[tuple, list[Finding]] = {}
    for f in described:
        # Its kind and records: the sentence itself may say an age that grew since.
        said = (f.words.title, f.words.customer, f.words.deal, ", ".join(f.words.invoices))
        by_words.setdefault(said, []).append(f)
    for recon, message in zip(recons, mailoutbox, strict=True):
        month = recon.period
        n, amount = month_count[month], month_amount[month]
        report = client.get(reverse("reconciliation_report", args=[customer.slug, recon.pk]))
        html = report.content.decode()
        assert f"{n} open findings" in html and usd(amount) in html
        shown = Tables(html).table_with("Open since")
        assert len(shown) == n
        since = [r[3] for r in shown]
        assert since.count("Nov 2026 2 months") == len(planted), since
        trend = Tables(html).table_with("Open at month end")
        expected = [(f"{m:%B %Y}", str(month_count[m])) for m in (NOV, DEC) if m <= month]
        assert [(r[0], r[1]) for r in trend] == expected

        download = client.get(reverse("reconciliation_csv", args=[customer.slug, recon.pk]))
        name, attached, _ = message.attachments[0]
        assert f"{month:%B %Y}" in message.subject and name.endswith(f"{month:%Y-%m}-findings.csv")
        assert f"{n} findings, {usd(amount)} at stake" in message.body
        # An email is the ledger as it stood when it went: after the first run, November
        # was the only month each problem had been seen in.
        months_then = "1" if message is mailoutbox[0] else "2"
        for where, text, months in (
            ("csv", download.content.decode(), "2"),
            ("email", attached, months_then),
        ):
            rows = list(csv.DictReader(io.StringIO(text)))
            assert len(rows) == n, where
            assert {(r["Client"], r["Period"]) for r in rows} == {(customer.name, f"{month:%Y-%m}")}
            # The file speaks in words: each row is told back to its finding by them alone.
            listed = []
            for r in rows:
                kind = r["Finding"].split(": ", 1)[0]
                told = by_words[(kind, r["Customer"], r["Deal"], r["Invoice numbers"])]
                assert len(told) == 1, (where, r)
                listed.append((told[0].code, told[0].deal_id, list(told[0].invoice_ids)))
            each_planted_once(key, listed, f"{where} {month:%Y-%m}")
            mine = [r for r, t in zip(rows, listed, strict=True) if any(about(p, *t) for p in key)]
            assert {(r["First seen"], r["Months open"]) for r in mine} == {("2026-11", months)}, (
                where,
                month,
            )
            assert sum((Decimal(r["Amount"]) for r in rows), Decimal("0.00")) == amount

    # The API: the open findings, and each run's own count.
    api = APIClient()
    api.credentials(HTTP_AUTHORIZATION=f"Token {token_for(two_firms.accountant_a)}")
    listed = api.get("/api/v1/findings/", {"client": customer.slug, "status": "open"}).json()
    assert listed["count"] == count
    found = listed["results"]
    each_planted_once(key, [(f["code"], f["deal_id"], f["invoice_ids"]) for f in found], "api")
    assert sum((Decimal(f["amount"]) for f in found), Decimal("0.00")) == at_stake
    from_api = [f for f in found if any(about(p, f["code"], f["deal_id"], f["invoice_ids"])
                                        for p in key)]  # fmt: skip
    assert {(f["first_period"], f["months_open"]) for f in from_api} == {("2026-11-01", 2)}
    runs_listed = api.get("/api/v1/reconciliations/", {"client": customer.slug}).json()
    assert sorted(r["counts"]["findings"] for r in runs_listed["results"]) == sorted(
        month_count[r.period] for r in recons
    )


def test_last_reconciled_names_the_latest_month_even_after_an_earlier_one_is_rerun(
    two_firms, client
):
    """GIVEN December's reconciliation failed WHEN November is reconciled again afterwards
    THEN the dashboard still says December was the last month reconciled, and that it failed
    (not "Nov 2026", which reads as if December had never been tried)."""
    from django.utils import timezone

    customer = two_firms.client_a
    earlier = timezone.now() - timedelta(hours=1)
    Reconciliation.objects.create(client=customer, period=DEC, status="failed", started_at=earlier)
    Reconciliation.objects.create(client=customer, period=NOV, status="done")
    client.force_login(two_firms.accountant_a)
    dashboard = client.get(reverse("dashboard")).content.decode()
    row = next(r for r in Tables(dashboard).table_with("Client") if r[0] == customer.name)
    assert "December 2026 failed to reconcile" in row[6], row
