"""Runs that never lie (issue 14): a failed or partial run says so everywhere it appears —
report page, client page, dashboard, reports list, CSV, email, API — in words, with what was
and was not compared, the last run that went through and a way to start it again; a run whose
worker died is ended on the next read or tick; no page shows "no findings" for a run that
did not finish."""

import time
from datetime import date, timedelta

import pytest
import requests
from django.core.management import call_command
from django.utils import timezone

from clients.models import AuditEntry
from connections import retries
from reconciliation import lifecycle
from reconciliation import run as recon_run
from reconciliation.models import Reconciliation, ReconStatus
from reconciliation.report import send_report
from reconciliation.tasks import reconcile_due_clients
from sync.models import SyncSettings

from .sandbox.conftest import sandbox_db
from .test_api import api  # noqa: F401 - the fixture
from .test_run_lifecycle import three_clients  # noqa: F401 - the fixture

NOVEMBER = date(2026, 11, 1)
CLEAN = ("No open findings", "told the same story", "same story")


def page(client, url: str) -> str:
    answer = client.get(url)
    assert answer.status_code == 200, answer.status_code
    return answer.content.decode()


def report_url(recon) -> str:
    return f"/clients/{recon.client.slug}/reconciliations/{recon.pk}/"


def done_run(client, period: date, **fields) -> Reconciliation:
    """A run that went through (as the ledger would have left it, with no findings)."""
    return Reconciliation.objects.create(
        client=client,
        period=period,
        status=ReconStatus.DONE,
        stage="Finished",
        finished_at=timezone.now(),
        counts={"invoices": 3, "credits": 0, "won_deals": 3, "crm_read": True},
        **fields,
    )


def dead_run(client, period: date = NOVEMBER, minutes: int = 10, **fields) -> Reconciliation:
    """A run whose worker died `minutes` ago, in the middle of reading the books."""
    then = timezone.now() - timedelta(minutes=minutes)
    fields = {"stage": lifecycle.READING_BOOKS, "started_at": then, "heartbeat_at": then} | fields
    return Reconciliation.objects.create(client=client, period=period, **fields)


# -- a client with no connections ------------------------------------------------------
def test_a_run_with_nothing_connected_fails_and_says_so_everywhere(
    two_firms,
    client,
    api,  # noqa: F811
):
    """GIVEN a client with no connection and an October that went through
    WHEN November is reconciled
    THEN it fails, and every place that shows it says so in words, never "no findings"."""
    october = done_run(two_firms.client_a, date(2026, 10, 1))
    recon = recon_run.reconcile(two_firms.client_a, NOVEMBER)
    assert recon.status == ReconStatus.FAILED
    words = "Alpha Secret Roofing has no connected accounting system; connect it first."
    assert recon.error == words
    client.force_login(two_firms.accountant_a)

    report = page(client, report_url(recon))
    assert "did not finish: nothing was compared" in report and words in report
    assert "Start November 2026 again" in report  # the retry button
    assert f'href="{report_url(october)}"' in report and "October 2026, done" in report
    assert "Download CSV" not in report
    assert not any(clean in report for clean in CLEAN)

    detail = page(client, f"/clients/{two_firms.client_a.slug}/")
    assert "November 2026 failed to reconcile: " + words in detail
    assert "Did not finish: nothing compared" in detail
    assert "No open findings" not in detail

    board = page(client, "/")
    assert "November 2026 failed to reconcile" in board
    assert f'href="{report_url(recon)}" class="recon-failed"' in board

    listed = page(client, "/reports/")
    assert "Did not finish: nothing compared." in listed and words in listed
    assert f"{report_url(recon)}findings.csv" not in listed  # no CSV to read as clean
    assert f"{report_url(october)}findings.csv" in listed

    csv = client.get(f"{report_url(recon)}findings.csv")
    assert csv.status_code == 409 and csv["Content-Type"].startswith("text/plain")
    said = csv.content.decode()
    assert "did not finish: nothing was compared, so there is no findings file" in said
    assert words in said and report_url(october) in said

    answer = api(two_firms.accountant_a).get(f"/api/v1/reconciliations/{recon.pk}/").json()
    assert answer["status"] == "failed" and answer["failure"] == words
    assert answer["open_findings"] is None and answer["at_stake"] is None  # not 0
    assert answer["last_good_run"]["id"] == october.pk
    listed = api(two_firms.accountant_a).get("/api/v1/reconciliations/").json()["results"]
    by_id = {r["id"]: r for r in listed}
    assert by_id[recon.pk]["open_findings"] is None and by_id[recon.pk]["failure"] == words
    assert by_id[october.pk]["open_findings"] == 0 and by_id[october.pk]["failure"] is None
    assert by_id[october.pk]["last_good_run"] is None


def test_a_provider_failure_reads_in_words_and_keeps_the_cause_for_support(two_firms, monkeypatch):
    def down(client, recon):
        raise retries.Transient("QuickBooks answered 503")

    monkeypatch.setattr(recon_run, "take_snapshot", down)
    recon = recon_run.reconcile(two_firms.client_a, NOVEMBER)
    assert recon.error.startswith("The books did not answer while reading the books")
    assert "start it again in a few minutes" in recon.error and "503" not in recon.error
    assert recon.error_detail == "Transient: QuickBooks answered 503"
    assert recon.stage == lifecycle.READING_BOOKS  # where it stopped, kept


@pytest.mark.parametrize(
    "error, stage, words",
    [
        (
            retries.RateLimited("429", retry_after=60),
            lifecycle.READING_BOOKS,
            "The books asked syncfirm to slow down (too many requests) while reading the books",
        ),
        (
            retries.ProviderError("Listing deals: the provider refused our access twice."),
            lifecycle.READING_CRM,
            "The CRM refused syncfirm's request while reading the CRM: Listing deals",
        ),
        (
            retries.ProviderError("HubSpot refused the request (HTTP 403)"),
            lifecycle.READING_CRM,
            "(HTTP 403). Check the connection on the client's page, then start it again.",
        ),
        (KeyError("Line"), lifecycle.COMPARING, "Something went wrong in syncfirm while comparing"),
        (KeyError("Line"), "", "Something went wrong in syncfirm before it began"),
    ],
)
def test_failures_are_told_in_words(error, stage, words):
    said = lifecycle.failure_words(error, stage, 7)
    assert words in said and "KeyError" not in said and "Traceback" not in said


def test_a_provider_that_kept_failing_did_not_refuse_it_did_not_answer():
    try:
        raise retries.ProviderError("gave up") from retries.Transient("HubSpot answered 503")
    except retries.ProviderError as error:
        said = lifecycle.failure_words(error, lifecycle.READING_CRM)
    assert said.startswith("The CRM did not answer while reading the CRM") and "503" not in said


# -- a run whose worker died -------------------------------------------------------------
def test_a_dead_run_reads_failed_on_the_report_page(two_firms, client):
    dead = dead_run(two_firms.client_a)
    client.force_login(two_firms.accountant_a)
    report = page(client, report_url(dead))
    stopped = "The worker running it stopped at “Reading the books (invoices, credit memos)”"
    assert stopped + "; start it again." in report
    assert "has not finished yet" not in report
    dead.refresh_from_db()
    assert dead.status == ReconStatus.FAILED and dead.finished_at is not None


@pytest.mark.parametrize("where", ["client page", "dashboard", "reports", "api", "tick"])
def test_a_dead_run_is_ended_wherever_it_is_read_first(where, two_firms, client, api):  # noqa: F811
    dead = dead_run(two_firms.client_a)
    alive = dead_run(two_firms.client_a, date(2026, 10, 1), minutes=1)  # beating a minute ago
    alive.started_at = timezone.now() - timedelta(minutes=30)  # long, but alive
    alive.save()
    client.force_login(two_firms.accountant_a)
    if where == "client page":
        assert "November 2026 failed to reconcile" in page(client, "/clients/alpha-roofing/")
    elif where == "dashboard":
        assert "November 2026 failed to reconcile" in page(client, "/")
    elif where == "reports":
        assert "The worker running it stopped at" in page(client, "/reports/")
    elif where == "api":
        rows = api(two_firms.accountant_a).get("/api/v1/reconciliations/").json()["results"]
        assert {r["id"]: r["status"] for r in rows} == {dead.pk: "failed", alive.pk: "running"}
    else:
        assert reconcile_due_clients() == 0
    dead.refresh_from_db(), alive.refresh_from_db()
    assert dead.status == ReconStatus.FAILED and "stopped at" in dead.error
    assert alive.status == ReconStatus.RUNNING


def test_a_queued_run_waits_for_a_worker_then_says_none_came(two_firms):
    queued = dead_run(two_firms.client_a, minutes=10, stage=lifecycle.QUEUED)
    assert lifecycle.end_dead_runs() == 0  # a busy queue is not a dead worker
    later = timezone.now() + lifecycle.QUEUED_FOR
    assert lifecycle.end_dead_runs(now=later) == 1
    queued.refresh_from_db()
    assert queued.error.startswith("No worker picked it up within 30 minutes")


def test_a_late_heartbeat_does_not_bring_an_ended_run_back(two_firms):
    dead = dead_run(two_firms.client_a)
    lifecycle.end_dead([dead])
    assert lifecycle.beat(dead, lifecycle.COMPARING) is False
    dead.refresh_from_db()
    assert dead.status == ReconStatus.FAILED and dead.stage == lifecycle.READING_BOOKS


def test_each_stage_beats_so_a_long_run_is_never_taken_for_dead(two_firms, monkeypatch):
    seen = []

    def snapshot(client, recon):
        seen.append(Reconciliation.objects.values_list("stage", "heartbeat_at").get(pk=recon.pk))
        raise SystemError("stop here")

    monkeypatch.setattr(recon_run, "take_snapshot", snapshot)
    before = timezone.now()
    recon_run.reconcile(two_firms.client_a, NOVEMBER)
    assert seen[0][0] == lifecycle.READING_BOOKS and seen[0][1] >= before


@pytest.mark.django_db(transaction=True)
def test_the_heartbeat_goes_on_inside_one_long_read(two_firms):
    """A worker reading a company's every invoice in one call still beats (a thread does),
    so only a worker that died stops beating."""
    recon = dead_run(two_firms.client_a, minutes=4)
    with lifecycle.Heartbeat(recon, every=0.05):
        time.sleep(0.5)
    recon.refresh_from_db()
    assert recon.heartbeat_at > timezone.now() - timedelta(seconds=5)
    assert lifecycle.end_dead_runs(now=timezone.now() + timedelta(minutes=1)) == 0


# -- retry -------------------------------------------------------------------------------
def test_retry_starts_the_month_again_as_a_new_run_audited(two_firms, client):
    failed = recon_run.reconcile(two_firms.client_a, NOVEMBER)
    client.force_login(two_firms.accountant_a)
    answer = client.post(f"{report_url(failed)}retry/")
    again = Reconciliation.objects.exclude(pk=failed.pk).get()
    assert answer.status_code == 302 and answer["Location"] == report_url(again)
    assert again.period == NOVEMBER and again.started_by == two_firms.accountant_a
    assert again.status == ReconStatus.FAILED  # still nothing connected: ran, and said so
    entry = AuditEntry.objects.get(action="reconciliation.retried")
    assert entry.actor == two_firms.accountant_a and entry.before["reconciliation"] == failed.pk
    assert entry.after["reconciliation"] == again.pk


def test_retry_is_for_the_firms_accountants_only(two_firms, client):
    failed = recon_run.reconcile(two_firms.client_a, NOVEMBER)
    url = f"{report_url(failed)}retry/"
    client.force_login(two_firms.owner_b)  # another firm's staff: not theirs to see
    assert client.post(url).status_code == 404
    assert (
        client.post(f"/clients/bravo-plumbing/reconciliations/{failed.pk}/retry/").status_code
        == 404
    )
    client.force_login(two_firms.viewer_a)
    assert client.post(url).status_code == 403
    assert "Start November 2026 again" not in page(client, report_url(failed))
    assert client.get(url).status_code == 405
    assert Reconciliation.objects.count() == 1


def test_a_month_already_running_is_not_started_twice(two_firms, client):
    failed = recon_run.reconcile(two_firms.client_a, NOVEMBER)
    dead_run(two_firms.client_a, minutes=1)  # alive
    client.force_login(two_firms.accountant_a)
    answer = client.post(f"{report_url(failed)}retry/", follow=True)
    assert "November 2026 is being reconciled already" in answer.content.decode()
    assert Reconciliation.objects.count() == 2


# -- a partial run, and runs through the sandbox -----------------------------------------
@pytest.fixture
def books_only(two_firms, sandbox):
    """Firm A's client with its books connected (sandbox QuickBooks) and no CRM."""
    call_command("connect_sandbox", two_firms.client_a.slug)
    two_firms.client_a.connections.filter(system="hubspot").delete()
    return two_firms.client_a


@sandbox_db
def test_a_partial_run_says_what_was_not_compared_on_page_email_and_api(
    books_only,
    two_firms,
    client,
    api,  # noqa: F811
    mailoutbox,
):
    recon = recon_run.reconcile(books_only, NOVEMBER)
    assert recon.status == ReconStatus.PARTIAL
    crm = "the CRM side (deals, payment status): Alpha Secret Roofing has no connected CRM"
    assert recon.not_checked[0].startswith(crm)

    client.force_login(two_firms.accountant_a)
    report = page(client, report_url(recon))
    assert "Not everything was compared." in report and crm in report
    assert "won deal" not in report.split("Not compared:")[0]  # the CRM was not read
    assert "Download CSV (partial)" in report and "told the same story" not in report

    send_report(recon)
    mail = mailoutbox[-1]
    assert "NOT EVERYTHING WAS COMPARED" in mail.body and crm in mail.body
    assert "told the same story" not in mail.body
    assert crm in mail.alternatives[0][0]
    assert mail.attachments[0][0] == "alpha-roofing-2026-11-partial-findings.csv"

    answer = api(two_firms.accountant_a).get(f"/api/v1/reconciliations/{recon.pk}/").json()
    assert answer["status"] == "partial" and answer["not_checked"][0].startswith(crm)
    assert answer["failure"] is None and answer["open_findings"] == 0


@sandbox_db
def test_a_crm_that_does_not_answer_leaves_a_partial_run_saying_so_in_words(
    two_firms,
    sandbox,
    client,
    api,  # noqa: F811
    monkeypatch,
):
    """GIVEN both systems connected, and the sandbox HubSpot answering every call with an error
    WHEN November is reconciled
    THEN it finishes on the books alone, and says in words that the CRM was not compared."""
    call_command("connect_sandbox", two_firms.client_a.slug)
    monkeypatch.setattr(retries, "_backoff", lambda state: 0)  # give up at once, not in 15 s
    portal = two_firms.client_a.connections.get(system="hubspot").external_id
    requests.put(
        f"{sandbox}/sandbox/control/faults",
        json={"system": "hubspot", "account": str(portal), "error_rate": 1.0},
        timeout=10,
    ).raise_for_status()
    recon = recon_run.reconcile(two_firms.client_a, NOVEMBER)
    assert recon.status == ReconStatus.PARTIAL
    note = recon.not_checked[0]
    assert note.startswith("the CRM side (deals, payment status): The CRM did not answer")
    assert "start it again in a few minutes" in note and "503" not in note
    client.force_login(two_firms.accountant_a)
    assert note in page(client, report_url(recon)).replace("&#x27;", "'")
    answer = api(two_firms.accountant_a).get(f"/api/v1/reconciliations/{recon.pk}/").json()
    assert answer["not_checked"] == [note] and answer["status"] == "partial"


@sandbox_db
def test_retry_of_a_failed_month_that_now_goes_through(books_only, two_firms, client):
    """GIVEN November failed, and the client's books are now connected
    WHEN an accountant presses retry
    THEN a new November runs through; the failed one's page points to it."""
    failed = dead_run(books_only)
    lifecycle.end_dead([failed])
    client.force_login(two_firms.accountant_a)
    answer = client.post(f"{report_url(failed)}retry/")
    again = Reconciliation.objects.exclude(pk=failed.pk).get()
    assert answer["Location"] == report_url(again) and again.finished
    assert f'href="{report_url(again)}"' in page(client, report_url(failed))


@sandbox_db
def test_the_monthly_alert_says_what_failed_and_links_the_last_good_run(
    three_clients,  # noqa: F811
    monkeypatch,
    mailoutbox,
):
    b = three_clients[1]
    october = done_run(b, date(2026, 10, 1))
    real = recon_run.take_snapshot

    def snapshot(client, recon):
        if client.pk == b.pk:
            raise retries.ProviderError("QuickBooks refused: the company is closed for audit.")
        return real(client, recon)

    monkeypatch.setattr(recon_run, "take_snapshot", snapshot)
    for _ in range(3):
        reconcile_due_clients()
    alert = next(m for m in mailoutbox if "monthly reconciliation needs attention" in m.subject)
    assert "could not be reconciled after 3 attempts" in alert.body
    assert "The books refused syncfirm's request while reading the books" in alert.body
    assert "ProviderError" not in alert.body
    last = b.reconciliations.filter(status=ReconStatus.FAILED).first()
    assert f"{report_url(last)}" in alert.body and "start it again" in alert.body
    assert "The last run that went through (October 2026, done): http" in alert.body
    assert report_url(october) in alert.body
    assert SyncSettings.objects.filter(client=b).exists()


def test_reconcile_now_shows_its_run_at_once_and_says_so_when_no_worker_comes(
    two_firms, client, monkeypatch
):
    """GIVEN the background tasks are not running
    WHEN an accountant presses "Reconcile this month now"
    THEN the run shows as queued at once, and half an hour later says no worker came."""
    monkeypatch.setattr(lifecycle, "async_task", lambda *args: None)  # nobody picks it up
    client.force_login(two_firms.accountant_a)
    client.post("/clients/alpha-roofing/reconciliations/start/")
    queued = Reconciliation.objects.get()
    assert queued.stage == lifecycle.QUEUED and queued.status == ReconStatus.RUNNING
    assert AuditEntry.objects.filter(action="reconciliation.started").exists()
    assert "not finished yet" in page(client, "/clients/alpha-roofing/")

    Reconciliation.objects.update(heartbeat_at=timezone.now() - lifecycle.QUEUED_FOR)
    detail = page(client, "/clients/alpha-roofing/")
    assert "No worker picked it up within 30 minutes" in detail
    assert "No open findings" not in detail
