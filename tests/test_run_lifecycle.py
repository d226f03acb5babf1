"""Every run ends (issue 13, finding 5): a period outside the client's history is refused with
a clear message by the command and the API; a reconciliation that raises is marked failed
with the reason; one left running by a dead worker is ended; the monthly dispatcher takes
each client on its own, retries a failed month a bounded number of times, then alerts."""

from datetime import date, timedelta

import pytest
from django.core.management import CommandError, call_command
from django.utils import timezone

from reconciliation import run as recon_run
from reconciliation.models import Reconciliation, ReconStatus
from reconciliation.periods import PeriodRefused, check_period
from reconciliation.tasks import MONTHLY_ATTEMPTS, end_abandoned_runs, reconcile_due_clients
from sync.models import Alert, SyncSettings

from .factories import ClientFactory
from .sandbox.conftest import sandbox_db
from .test_api import api  # noqa: F401 - the fixture

TODAY = date(2026, 12, 4)


# -- which months: one pure function ------------------------------------------------------
@pytest.mark.parametrize(
    "text, month",
    [("2026-12", date(2026, 12, 1)), ("2026-11", date(2026, 11, 1)), ("2016-01", date(2016, 1, 1))],
)
def test_it_accepts_months_of_the_clients_history(text, month):
    assert check_period(text, TODAY) == month


@pytest.mark.parametrize(
    "text, words",
    [
        ("9999-12", "has not begun yet: the latest month that can be reconciled is 2026-12"),
        ("2027-01", "has not begun yet"),
        ("0000-01", "before the history syncfirm reconciles: the earliest month is 2016-01"),
        ("2015-12", "before the history"),
        ("2026-13", "is not a month: write it as YYYY-MM"),
        ("26-11", "is not a month"),
        ("2026-1", "is not a month"),
        ("", "is not a month"),
        ("+2026-01", "is not a month"),
        ("\uff12\uff10\uff12\uff16-\uff11\uff11", "is not a month"),  # fullwidth: \d took it
        ("\u0662\u0660\u0662\u0666-\u0661\u0661", "is not a month"),  # Arabic-Indic
        ("2026-1\u0661", "is not a month"),
    ],
)
def test_it_refuses_other_periods_saying_why(text, words):
    with pytest.raises(PeriodRefused, match=words):
        check_period(text, TODAY)


def test_the_current_month_is_the_clients_own(db):
    # 23:30 on Nov 30 in Chicago is already December in UTC: December has not begun there.
    client = ClientFactory(timezone="America/Chicago")
    instant = timezone.datetime(2026, 12, 1, 5, 30, tzinfo=timezone.UTC)
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(recon_run.timezone, "now", lambda: instant)
        assert recon_run.client_period(client, "2026-11") == date(2026, 11, 1)
        with pytest.raises(PeriodRefused, match=r"latest month .* is 2026-11"):
            recon_run.client_period(client, "2026-12")


# -- the command and the API refuse them ------------------------------------------------
@pytest.mark.parametrize("period", ["9999-12", "0000-01", "2026-00"])
def test_the_command_refuses_a_period_outside_the_history(two_firms, period):
    with pytest.raises(CommandError, match=f"--period: .*{period}"):
        call_command("reconcile", two_firms.client_a.slug, "--period", period)
    assert not Reconciliation.objects.exists()  # nothing started, nothing left running


@pytest.mark.parametrize(
    "period, words",
    [
        ("9999-12", "has not begun yet"),
        ("0000-01", "before the history"),
        ("\uff12\uff10\uff12\uff16-\uff11\uff11", "YYYY-MM"),
    ],
)
def test_the_api_refuses_a_period_outside_the_history(api, two_firms, period, words):  # noqa: F811
    answer = api(two_firms.accountant_a).post(
        "/api/v1/reconciliations/",
        {"client": two_firms.client_a.slug, "period": period},
        format="json",
    )
    assert answer.status_code == 400
    assert words in answer.json()["period"][0]
    assert not Reconciliation.objects.exists()


# -- a run that raises ends, failed, with the reason -----------------------------------
def test_a_reconciliation_that_raises_is_marked_failed_with_the_reason(two_firms, monkeypatch):
    def broken(client, recon):
        raise ArithmeticError("a deal amount of 1e309")

    monkeypatch.setattr(recon_run, "take_snapshot", broken)
    recon = recon_run.reconcile(two_firms.client_a, date(2026, 11, 1))
    recon.refresh_from_db()
    assert recon.status == ReconStatus.FAILED and recon.finished_at is not None
    # In words for the accountant; the exception kept apart, for support.
    assert recon.error.startswith("Something went wrong in syncfirm while reading the books")
    assert "ArithmeticError" not in recon.error
    assert recon.error_detail == "ArithmeticError: a deal amount of 1e309"


def test_the_command_exits_non_zero_when_the_run_raises(two_firms, monkeypatch):
    monkeypatch.setattr(recon_run, "take_snapshot", lambda c, r: 1 / 0)
    with pytest.raises(CommandError, match="ZeroDivisionError"):
        call_command("reconcile", two_firms.client_a.slug, "--period", "2026-11")
    assert Reconciliation.objects.get().status == ReconStatus.FAILED


def test_a_run_left_running_by_a_dead_worker_is_ended(two_firms):
    now = timezone.now()
    dead = Reconciliation.objects.create(
        client=two_firms.client_a, period=date(2026, 11, 1), started_at=now - timedelta(hours=3)
    )
    alive = Reconciliation.objects.create(
        client=two_firms.client_a, period=date(2026, 10, 1), started_at=now - timedelta(minutes=5)
    )
    assert end_abandoned_runs(now) == 1
    dead.refresh_from_db(), alive.refresh_from_db()
    assert dead.status == ReconStatus.FAILED and "start it again" in dead.error
    assert alive.status == ReconStatus.RUNNING


# -- the monthly dispatcher: one client never stops the others -------------------------
@pytest.fixture
def three_clients(two_firms, sandbox):
    """Three clients of firm A, each with both sandbox systems connected and imported long
    enough ago that last month is theirs; each has its own staff member."""
    made = []
    for letter in "ABC":
        client = ClientFactory(firm=two_firms.firm_a, name=f"{letter} Builders", slug=letter)
        client.assigned_staff.add(two_firms.accountant_a)
        call_command("connect_sandbox", client.slug)
        SyncSettings.for_client(client)
        SyncSettings.objects.filter(client=client).update(
            import_done_at=timezone.now() - timedelta(days=70)
        )
        made.append(client)
    two_firms.client_a.connections.all().delete()  # only the three take part
    return made


def reports_for(mailoutbox, client) -> list:
    return [m for m in mailoutbox if m.subject.startswith(f"{client.name}: reconciliation")]


def break_snapshot_of(monkeypatch, broken_client):
    """The client's reconciliation raises (a bug, a value nothing expected)."""
    real_snapshot = recon_run.take_snapshot

    def snapshot(client, recon):
        if client.pk == broken_client.pk:
            raise RuntimeError(f"{client.name}' books are unreadable")
        return real_snapshot(client, recon)

    monkeypatch.setattr(recon_run, "take_snapshot", snapshot)
    return real_snapshot


@sandbox_db
def test_one_client_that_raises_stops_no_other_and_is_retried(
    three_clients, monkeypatch, mailoutbox
):
    a, b, c = three_clients
    real_snapshot = break_snapshot_of(monkeypatch, b)
    assert reconcile_due_clients() == 3
    for ok in (a, c):
        assert ok.reconciliations.get().status == ReconStatus.DONE
        assert len(reports_for(mailoutbox, ok)) == 1  # A's and C's reports were sent
        assert ok.reconciliations.get().report_sent_at is not None
    failed = b.reconciliations.get()
    assert failed.status == ReconStatus.FAILED
    assert "B Builders' books are unreadable" in failed.error_detail
    assert failed.error.startswith("Something went wrong in syncfirm while reading the books")
    assert reports_for(mailoutbox, b) == []

    # The next tick tries B again (and only B); once it goes through, its report goes.
    monkeypatch.setattr(recon_run, "take_snapshot", real_snapshot)
    assert reconcile_due_clients() == 1
    assert b.reconciliations.filter(status=ReconStatus.DONE).count() == 1
    assert len(reports_for(mailoutbox, b)) == 1
    assert reconcile_due_clients() == 0  # everyone's month is done, once
    assert [len(reports_for(mailoutbox, x)) for x in (a, b, c)] == [1, 1, 1]


@sandbox_db
def test_a_month_that_keeps_failing_is_tried_a_bounded_number_of_times_then_alerts(
    three_clients, monkeypatch, mailoutbox
):
    b = three_clients[1]
    break_snapshot_of(monkeypatch, b)
    for _ in range(MONTHLY_ATTEMPTS + 2):
        reconcile_due_clients()
    assert b.reconciliations.filter(status=ReconStatus.FAILED).count() == MONTHLY_ATTEMPTS
    alert = Alert.objects.get(client=b, resolved_at=None)
    assert "could not be reconciled after 3 attempts" in alert.message
    alerts_mailed = [m for m in mailoutbox if "monthly reconciliation needs attention" in m.subject]
    assert len(alerts_mailed) == 1 and alerts_mailed[0].to == [b.assigned_staff.get().email]


@sandbox_db
def test_a_report_that_cannot_be_sent_is_sent_on_the_next_tick(
    three_clients, monkeypatch, mailoutbox
):
    from reconciliation import report

    a, b, c = three_clients
    real_send = report._send_report

    def smtp_down_for_b(recon):
        if recon.client_id == b.pk:
            raise ConnectionRefusedError("SMTP server refused the connection")
        return real_send(recon)

    monkeypatch.setattr(report, "_send_report", smtp_down_for_b)
    assert reconcile_due_clients() == 3
    assert [len(reports_for(mailoutbox, x)) for x in (a, b, c)] == [1, 0, 1]
    recon = b.reconciliations.get()
    assert recon.report_sent_at is None and "SMTP server refused" in recon.report_error

    monkeypatch.setattr(report, "_send_report", real_send)
    assert reconcile_due_clients() == 0  # no new run: the month is reconciled
    assert [len(reports_for(mailoutbox, x)) for x in (a, b, c)] == [1, 1, 1]
    assert b.reconciliations.get().report_sent_at is not None


def test_the_client_page_says_why_a_run_failed(two_firms, client, monkeypatch):
    monkeypatch.setattr(recon_run, "take_snapshot", lambda c, r: 1 / 0)
    recon_run.reconcile(two_firms.client_a, date(2026, 11, 1))
    client.force_login(two_firms.accountant_a)
    page = client.get(f"/clients/{two_firms.client_a.slug}/").content.decode()
    assert "Failed" in page and "Something went wrong in syncfirm" in page
    assert "ZeroDivisionError" not in page  # the technical cause is for the logs
