"""The month-end close: its checklist, sign-off, the lock on a signed-off month (what a later
run shows differently, in words, never rewriting what was signed off), reopening, carry
notes, and the firm's close board."""

from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

import pytest
from django.urls import reverse
from django.utils import timezone

from clients.models import AuditEntry
from reconciliation import close
from reconciliation.close_actions import (
    CloseRefused,
    do_carry,
    do_reopen,
    do_send_report,
    do_sign_off,
)
from reconciliation.close_facts import one_month
from reconciliation.fixes import do_dismiss
from reconciliation.models import Finding, MonthClose, Reconciliation
from sync.models import SyncRun

from .factories import ClientFactory, ConnectionFactory
from .test_ledger import TROUBLED, book, deal, invoice, run

OCT, NOV = date(2026, 10, 1), date(2026, 11, 1)
D = Decimal
OCT_END = datetime(2026, 11, 1, 4, tzinfo=UTC)  # New York's month end


# -- the checklist, pure ---------------------------------------------------------------
LINKS = (
    close.Link("accounting", "QuickBooks Online", "active", "Active"),
    close.Link("crm", "HubSpot", "active", "Active"),
)
DONE_RUN = close.Run(1, "done", OCT_END + timedelta(days=2), report_sent_at=OCT_END)


def facts(**changed) -> close.Facts:
    given = {
        "period": OCT,
        "ended": True,
        "month_end": OCT_END,
        "links": LINKS,
        "last_sync": ("succeeded", ""),
        "latest_run": DONE_RUN,
        "items": (),
    }
    return close.Facts(**(given | changed))


def item(n: int, amount="100.00", status="open", carried="") -> close.Item:
    return close.Item(n, "missing_invoice", D(amount), "USD", status, f"deal {n}", carried)


def test_it_is_ready_when_every_item_holds():
    judged = close.verdict(facts(items=(item(1, status="fixed"), item(2, carried="next month"))))
    assert judged.status == "ready" and judged.reasons == []
    assert [c.holds for c in judged.checks] == [True] * 5


@pytest.mark.parametrize(
    ("changed", "reason"),
    [
        ({"links": LINKS[:1]}, "No CRM connected."),
        (
            {
                "links": (
                    close.Link(
                        "accounting", "QuickBooks Online", "needs_reauth", "Needs re-authorisation"
                    ),
                    LINKS[1],
                )
            },
            "QuickBooks Online: needs re-authorisation.",
        ),
        ({"last_sync": ("failed", "HubSpot said 500")}, "The last sync failed: HubSpot said 500"),
        ({"last_sync": None}, "No sync has run yet."),
        ({"ended": False}, "October 2026 has not ended yet."),
        ({"latest_run": None}, "October 2026 has not been reconciled."),
        (
            {"latest_run": close.Run(2, "failed", OCT_END, error="QuickBooks did not answer.")},
            "The latest run of October 2026 failed: QuickBooks did not answer.",
        ),
        (
            {"latest_run": close.Run(2, "partial", OCT_END + timedelta(days=1))},
            "The latest run of October 2026 could not compare everything.",
        ),
        (
            {
                "latest_run": close.Run(
                    2, "done", OCT_END - timedelta(days=3), report_sent_at=OCT_END
                )
            },
            "October 2026 was last reconciled before it ended.",
        ),
        (
            {"items": (item(1), item(2, carried="x"), item(3))},
            "2 open findings are neither decided nor carried with a note.",
        ),
        (
            {"latest_run": close.Run(2, "done", OCT_END + timedelta(days=1))},
            "The report of the latest run has not been sent.",
        ),
    ],
)
def test_it_is_blocked_saying_why(changed, reason):
    judged = close.verdict(facts(**changed))
    assert judged.status == "blocked"
    assert reason in judged.reasons, judged.reasons


def test_a_closed_month_says_in_words_what_changed_since_the_sign_off():
    signed = (item(1, "100.00", carried="waiting on the client"), item(2, "50.00"), item(3))
    kept = close.snapshot(facts(items=signed), "ann@firm.test", OCT_END)
    now = (
        item(1, "100.00", status="fixed"),
        item(2, "75.00"),
        close.Item(4, "duplicate_invoice", D("20.00"), "USD", "open", "SF-9 twice"),
    )
    judged = close.verdict(facts(items=now, signed_off_at=OCT_END, snapshot=kept))
    assert judged.status == "closed" and judged.label == "closed · changed since sign-off"
    assert [c.words for c in judged.changes] == [
        "New problem: Duplicate invoice, 20.00 USD — SF-9 twice",
        "No longer seen: Missing invoice, 100.00 USD (it was open, not carried).",
        "Amount changed: Missing invoice 50.00 USD → 75.00 USD.",
        "Decision changed: Missing invoice, 100.00 USD: carried → fixed.",
    ]
    same = close.verdict(facts(items=signed, signed_off_at=OCT_END, snapshot=kept))
    assert same.label == "closed" and not same.changes


def test_a_failed_run_after_the_sign_off_reads_neither_changed_nor_clean():
    kept = close.snapshot(facts(items=(item(1),)), "ann", OCT_END)
    failed = close.Run(3, "failed", OCT_END + timedelta(days=9), error="boom")
    judged = close.verdict(facts(latest_run=failed, items=(), signed_off_at=OCT_END, snapshot=kept))
    assert judged.status == "closed" and not judged.judged and not judged.changes
    assert judged.label == "closed · latest run not compared"
    assert "failed, so it was not compared" in judged.unjudged_words


def test_worst_first_puts_blocked_clients_first():
    blocked = close.Verdict("blocked", ())
    ready, closed = close.Verdict("ready", ()), close.Verdict("closed", ())
    rows = [
        ("a", [closed, closed]),
        ("b", [ready, closed]),
        ("c", [closed, blocked]),
        ("d", [blocked, blocked]),
    ]
    assert [name for name, _ in close.worst_first(rows)] == ["d", "c", "b", "a"]


# -- against the ledger ----------------------------------------------------------------
@pytest.fixture
def acme(two_firms):
    """Firm A's client with both systems connected and a sync that went through."""
    client = ClientFactory(firm=two_firms.firm_a, name="Acme Roofing", slug="acme")
    client.assigned_staff.add(two_firms.accountant_a)
    ConnectionFactory(client=client, system="quickbooks")
    ConnectionFactory(client=client, system="hubspot")
    SyncRun.objects.create(client=client, kind="manual", status="succeeded")
    return client


def reconciled(client, period, records) -> Reconciliation:
    recon = run(client, period, records)
    Reconciliation.objects.filter(pk=recon.pk).update(report_sent_at=timezone.now())
    return recon


def settle_all(client, period, user) -> None:
    """Carry every open finding of the month with a note."""
    for f in Finding.objects.filter(client=client, status="open"):
        do_carry(user, client, period, f.pk, "The contractor answers next week.")


def test_sign_off_is_refused_until_ready_then_keeps_what_the_month_showed(acme, two_firms):
    who = two_firms.accountant_a
    reconciled(acme, NOV, TROUBLED)
    with pytest.raises(CloseRefused, match="2 open findings are neither decided nor carried"):
        do_sign_off(who, acme, NOV)
    missing = Finding.objects.get(client=acme, code="missing_invoice")
    do_dismiss(who, missing, "Invoiced by hand under another number")
    duplicate = Finding.objects.get(client=acme, code="duplicate_invoice")
    do_carry(who, acme, NOV, duplicate.pk, "Voiding waits for the contractor")
    assert close.verdict(one_month(acme, NOV)).status == "ready"

    kept = do_sign_off(who, acme, NOV)
    assert kept.signed_off_by == who and kept.signed_off_at is not None
    assert kept.snapshot["count"] == 1 and kept.snapshot["totals"] == {"USD": "1000.00"}
    assert AuditEntry.objects.filter(action="month.signed_off", actor=who).count() == 1
    with pytest.raises(CloseRefused, match="signed off already"):
        do_sign_off(who, acme, NOV)
    with pytest.raises(CloseRefused, match="reopen it to change its notes"):
        do_carry(who, acme, NOV, duplicate.pk, "another note")


def test_a_later_run_of_a_signed_off_month_shows_what_changed_not_new_figures(acme, two_firms):
    """GIVEN November signed off with a duplicate carried WHEN the books change (the
    duplicate's amount, and a second missing invoice) and November is reconciled again THEN
    what was signed off stands, and the differences are listed in words."""
    who = two_firms.accountant_a
    reconciled(acme, NOV, TROUBLED)
    settle_all(acme, NOV, who)
    do_sign_off(who, acme, NOV)
    changed = book(
        [invoice(1, "1200.00", deal="d1"), invoice(2, "1200.00")],
        [deal(1, "1200.00"), deal(9, "2500.00"), deal(8, "400.00")],
    )
    reconciled(acme, NOV, changed)

    kept = MonthClose.objects.get(client=acme, period=NOV)
    assert kept.snapshot["totals"] == {"USD": "3500.00"}  # as signed off, not rewritten
    judged = close.verdict(one_month(acme, NOV))
    assert judged.label == "closed · changed since sign-off"
    words = [c.words for c in judged.changes]
    assert any(w.startswith("New problem: Missing invoice, 400.00 USD") for w in words), words
    assert "Amount changed: Duplicate invoice 1,000.00 USD → 1,200.00 USD." in words


def test_two_months_in_a_row_close_apart(acme, two_firms):
    who = two_firms.accountant_a
    reconciled(acme, OCT, TROUBLED)
    reconciled(acme, NOV, TROUBLED)
    settle_all(acme, OCT, who)
    assert close.verdict(one_month(acme, OCT)).status == "ready"
    # November's findings are the same problems, carried again: they need November's note.
    assert close.verdict(one_month(acme, NOV)).status == "blocked"
    do_sign_off(who, acme, OCT)
    settle_all(acme, NOV, who)
    do_sign_off(who, acme, NOV)
    assert [close.verdict(one_month(acme, p)).label for p in (OCT, NOV)] == ["closed", "closed"]


def test_a_failed_run_after_the_sign_off_is_not_read_as_changed_or_clean(acme, two_firms):
    who = two_firms.accountant_a
    reconciled(acme, NOV, TROUBLED)
    settle_all(acme, NOV, who)
    do_sign_off(who, acme, NOV)
    Reconciliation.objects.create(
        client=acme, period=NOV, status="failed", error="boom", finished_at=timezone.now()
    )
    judged = close.verdict(one_month(acme, NOV))
    assert judged.status == "closed" and not judged.judged and not judged.changes


def test_a_reopened_month_is_open_again_with_the_reason_audited(acme, two_firms):
    who, owner = two_firms.accountant_a, two_firms.owner_a
    reconciled(acme, NOV, TROUBLED)
    settle_all(acme, NOV, who)
    do_sign_off(who, acme, NOV)
    with pytest.raises(CloseRefused, match="Write why the month is reopened"):
        do_reopen(owner, acme, NOV, "  ")
    do_reopen(owner, acme, NOV, "The contractor found a missed invoice")
    kept = MonthClose.objects.get(client=acme, period=NOV)
    assert not kept.closed and kept.reopened_by == owner
    assert close.verdict(one_month(acme, NOV)).status == "ready"
    entry = AuditEntry.objects.get(action="month.reopened")
    assert entry.after == {"reason": "The contractor found a missed invoice"}
    assert entry.before["totals"] == {"USD": "3500.00"}
    with pytest.raises(CloseRefused, match="nothing to reopen"):
        do_reopen(owner, acme, NOV, "again")


def test_a_carry_note_is_refused_for_a_decided_finding_or_another_month(acme, two_firms):
    who = two_firms.accountant_a
    reconciled(acme, NOV, TROUBLED)
    missing = Finding.objects.get(client=acme, code="missing_invoice")
    with pytest.raises(CloseRefused, match="not one of October 2026's"):
        do_carry(who, acme, OCT, missing.pk, "x")
    with pytest.raises(CloseRefused, match="Write why it is carried"):
        do_carry(who, acme, NOV, missing.pk, "")
    do_dismiss(who, missing, "not ours")
    with pytest.raises(CloseRefused, match="decided already"):
        do_carry(who, acme, NOV, missing.pk, "x")


def test_sending_the_report_records_it(acme, two_firms, mailoutbox):
    run(acme, NOV, TROUBLED)
    assert (
        "The report of the latest run has not been sent."
        in close.verdict(one_month(acme, NOV)).reasons
    )
    do_send_report(two_firms.accountant_a, acme, NOV)
    assert len(mailoutbox) == 1 and "November 2026" in mailoutbox[0].subject
    assert close.checklist(one_month(acme, NOV))[4].holds
    assert AuditEntry.objects.filter(action="report.sent").count() == 1


# -- the pages -------------------------------------------------------------------------
def test_the_close_page_signs_off_and_reopens(client, acme, two_firms):
    reconciled(acme, NOV, TROUBLED)
    client.force_login(two_firms.accountant_a)
    page = reverse("close_month", args=[acme.slug, "2026-11"])
    shown = client.get(page).content.decode()
    assert "Not ready to sign off: 2 open findings" in shown and "Carry with this note" in shown
    refused = client.post(reverse("close_sign_off", args=[acme.slug, "2026-11"]), follow=True)
    assert "cannot be signed off yet" in refused.content.decode()
    for f in Finding.objects.filter(client=acme):
        client.post(reverse("close_carry", args=[acme.slug, "2026-11", f.pk]), {"note": "later"})
    done = client.post(reverse("close_sign_off", args=[acme.slug, "2026-11"]), follow=True)
    body = done.content.decode()
    assert "November 2026 signed off by you." in body and "Changed since sign-off" in body
    assert "accountant@alpha.test" in body
    reopened = client.post(
        reverse("close_reopen", args=[acme.slug, "2026-11"]), {"reason": "missed one"}, follow=True
    )
    assert "November 2026 reopened." in reopened.content.decode()


def test_a_viewer_reads_the_close_page_but_may_not_act(client, acme, two_firms):
    reconciled(acme, NOV, TROUBLED)
    client.force_login(two_firms.viewer_a)
    assert client.get(reverse("close_month", args=[acme.slug, "2026-11"])).status_code == 200
    for name in ("close_sign_off", "close_reopen", "close_send_report"):
        assert client.post(reverse(name, args=[acme.slug, "2026-11"])).status_code == 403
    finding = Finding.objects.filter(client=acme).first()
    carry = reverse("close_carry", args=[acme.slug, "2026-11", finding.pk])
    assert client.post(carry, {"note": "x"}).status_code == 403


def test_another_firms_finding_behind_ones_own_slug_is_not_carried(client, acme, two_firms):
    reconciled(acme, NOV, TROUBLED)
    theirs = Finding.objects.filter(client=acme).first()
    client.force_login(two_firms.owner_b)
    mine = two_firms.client_b.slug
    answer = client.post(
        reverse("close_carry", args=[mine, "2026-11", theirs.pk]), {"note": "x"}, follow=True
    )
    assert "is not one of November 2026" in answer.content.decode()
    assert not theirs.carry_notes.exists()
    assert client.get(reverse("close_month", args=[acme.slug, "2026-11"])).status_code == 404


@pytest.mark.parametrize("month", ["2026-13", "9999-12", "x" * 300, "0000-01"])
def test_an_odd_month_is_not_found(client, acme, two_firms, month):
    client.force_login(two_firms.accountant_a)
    assert client.get(f"/clients/{acme.slug}/close/{month}/").status_code == 404


def test_the_board_shows_closed_ready_and_blocked_worst_first(client, acme, two_firms):
    who = two_firms.accountant_a
    reconciled(acme, OCT, TROUBLED)
    settle_all(acme, OCT, who)
    do_sign_off(who, acme, OCT)
    reconciled(acme, NOV, TROUBLED)  # November: blocked (open findings without notes)
    client.force_login(who)
    shown = client.get(reverse("close_board"), {"staff": "all", "to": "2026-11"})
    body = shown.content.decode()
    assert "Acme Roofing, October 2026: closed" in body
    assert "Acme Roofing, November 2026: blocked" in body
    assert "2 open findings are neither decided nor carried with a note." in body
    # Worst first: the fixture's client (never connected: every month blocked) above Acme
    # (one month blocked).
    assert body.index("Alpha Secret Roofing</a>") < body.index("Acme Roofing</a>")
    mine = client.get(reverse("close_board"), {"staff": str(two_firms.owner_a.pk)})
    assert "Acme Roofing" not in mine.content.decode()


def test_the_board_costs_the_same_for_3_or_30_clients(client, two_firms):
    """GIVEN clients with runs, findings, carry notes and a signed-off month WHEN the board
    shows them beside three months THEN it answers in the same number of queries."""
    from .test_query_counts import fill, queries

    def more(n: int) -> None:
        fill(two_firms.firm_a, n)
        for target in two_firms.firm_a.clients.filter(month_closes__isnull=True):
            ConnectionFactory(client=target, system="quickbooks")
            ConnectionFactory(client=target, system="hubspot")
            SyncRun.objects.create(client=target, kind="manual", status="failed", error="boom")
            MonthClose.objects.create(
                client=target, period=OCT, signed_off_at=timezone.now(), snapshot={"items": []}
            )
            target.assigned_staff.add(two_firms.accountant_a)

    client.force_login(two_firms.accountant_a)
    more(3)
    url = reverse("close_board") + "?staff=all&to=2026-11"
    few = queries(client, url)
    more(27)
    assert queries(client, url) == few
    body = client.get(url).content.decode()
    # The fixture's client too: 31.
    assert body.count("October 2026: closed") == 31 and "Load Client 29" in body


def test_the_report_of_a_signed_off_month_says_so_and_what_changed(client, acme, two_firms):
    who = two_firms.accountant_a
    reconciled(acme, NOV, TROUBLED)
    settle_all(acme, NOV, who)
    do_sign_off(who, acme, NOV)
    again = reconciled(acme, NOV, book(TROUBLED["invoices"], [*TROUBLED["deals"], deal(8, "400")]))
    client.force_login(two_firms.viewer_a)
    body = client.get(reverse("reconciliation_report", args=[acme.slug, again.pk])).content
    said = body.decode()
    assert "November 2026 was signed off</strong>" in said and "3,500.00 USD at the month" in said
    assert "Changed since sign-off" in said and "New problem: Missing invoice, 400.00 USD" in said


def test_the_close_page_costs_the_same_for_2_or_22_findings(client, acme, two_firms):
    from .test_query_counts import queries

    who = two_firms.accountant_a
    client.force_login(who)
    reconciled(acme, NOV, TROUBLED)
    settle_all(acme, NOV, who)
    url = reverse("close_month", args=[acme.slug, "2026-11"])
    few = queries(client, url)
    more = book(
        [invoice(1, deal="d1"), invoice(2)],
        [deal(1), deal(9, "2500.00"), *(deal(n, "100.00") for n in range(20, 40))],
    )
    reconciled(acme, NOV, more)
    settle_all(acme, NOV, who)
    assert queries(client, url) == few
    assert client.get(url).content.decode().count("Carry note by") == 22


@pytest.mark.parametrize("back", ["https://evil.test/", "//evil.test/x", ""])
def test_reconcile_goes_back_only_to_a_page_of_this_site(
    client, acme, two_firms, back, monkeypatch
):
    from reconciliation import lifecycle

    monkeypatch.setattr(lifecycle, "async_task", lambda *args: None)  # queued, not run
    client.force_login(two_firms.accountant_a)
    url = reverse("reconciliation_start", args=[acme.slug])
    answer = client.post(url, {"period": "2026-10", "next": back})
    assert answer["Location"] == reverse("client_detail", args=[acme.slug])
    close_page = reverse("close_month", args=[acme.slug, "2026-09"])
    answer = client.post(url, {"period": "2026-09", "next": close_page})
    assert answer["Location"] == close_page


def test_the_board_pages_its_clients_worst_first_across_pages(client, two_firms, monkeypatch):
    """GIVEN three clients with their last month signed off and the fixture's client with
    every month blocked (last by name) WHEN the board shows two clients a page THEN the
    blocked client leads the first page: ranked across the firm, then paged."""
    from reconciliation import close_views
    from reconciliation.close_facts import ended_months

    monkeypatch.setattr(close_views, "BOARD_PAGE", 2)
    last = ended_months(timezone.now().date(), 1)[0]
    for n in range(3):
        target = ClientFactory(firm=two_firms.firm_a, name=f"Aaron Roofing {n}", slug=f"aa-{n}")
        MonthClose.objects.create(client=target, period=last, signed_off_at=timezone.now())
    client.force_login(two_firms.accountant_a)
    first = client.get(reverse("close_board"), {"staff": "all"}).content.decode()
    second = client.get(reverse("close_board"), {"staff": "all", "page": 2}).content.decode()
    assert "Page 1 of 2 · 4 in all" in first and "9 blocked" in first and "3 closed" in first
    assert "Alpha Secret Roofing</a>" in first and "Aaron Roofing 0</a>" in first
    assert "Aaron Roofing 1</a>" in second and "Aaron Roofing 2</a>" in second
