"""Integration health through the sandbox (issue 19): HubSpot's webhooks stopped for a
client turn it "degraded" at the next health check after the scheduled pull (within the
client's window), with the reason in words on its page and the dashboard and one email;
webhooks arriving again resolve the incident with a notice; the 30-day strip keeps the day."""

import re
import time

import pytest
import requests
from django.urls import reverse
from django.utils import timezone

from connections.hubspot.subscriptions import ensure_subscriptions
from sync import customers
from sync.customers import run_customer_sync
from sync.models import Incident, RunKind, SyncSettings
from sync.tasks import check_health

from .sandbox.conftest import sandbox_db

pytestmark = sandbox_db


def webhooks(systems, sandbox, on: bool) -> None:
    url = f"{sandbox}/webhooks/hubspot/" if on else ""
    requests.patch(
        f"{sandbox}/sandbox/control/hubspot/portals/{systems.hub_connection.external_id}",
        json={"webhook_url": url},
        timeout=10,
    ).raise_for_status()


def until(check, seconds: float = 5.0):
    for _ in range(int(seconds / 0.1)):
        if found := check():
            return found
        time.sleep(0.1)
    return check()


@pytest.fixture
def live(systems, sandbox, monkeypatch):
    """Imported, webhooks flowing, and (for the test's speed) no allowance for a webhook's
    usual delay behind its change."""
    monkeypatch.setattr(customers, "WEBHOOK_DELAY", timezone.timedelta(0))
    systems.client.assigned_staff.add(systems.client.firm.memberships.first().user)
    run_customer_sync(systems.client, kind=RunKind.IMPORT, full=True)
    SyncSettings.objects.filter(client=systems.client).update(import_done_at=timezone.now())
    webhooks(systems, sandbox, on=True)
    ensure_subscriptions()
    return systems


def test_stopped_webhooks_degrade_the_client_and_their_return_resolves_it(
    live, sandbox, client, two_firms, mailoutbox
):
    live.company(name="Early Builders", zip="78701")
    assert until(lambda: live.client.sync_runs.filter(kind=RunKind.WEBHOOK).exists())
    run_customer_sync(live.client, kind=RunKind.SCHEDULED)
    check_health()
    assert not Incident.objects.filter(client=live.client).exists()  # healthy: nothing said
    sent = len(mailoutbox)

    webhooks(live, sandbox, on=False)
    live.company(name="Quiet Builders", zip="78702")
    pull = run_customer_sync(live.client, kind=RunKind.SCHEDULED)
    assert pull.counts["missed_by_webhooks"] == ["Quiet Builders"]
    check_health()

    incident = Incident.objects.get(client=live.client, resolved_at=None)
    assert (incident.kind, incident.level) == ("webhooks", "degraded")
    assert incident.words.startswith(
        "HubSpot sent no webhook for 1 change syncfirm found on its own at "
    )
    assert "(Quiet Builders): changes reach the books up to 15 minutes late" in incident.words
    told = mailoutbox[sent:]
    assert len(told) == 1 and told[0].subject == f"{live.client.name}: integration degraded"
    check_health()  # still so: told once
    assert len(mailoutbox) == sent + 1

    client.force_login(two_firms.accountant_a)
    page = client.get(reverse("client_detail", args=[live.client.slug])).content.decode()
    assert "Integration health" in page and "Degraded" in page and "Quiet Builders" in page
    # The headroom under each provider limit, as the workers counted their calls.
    limits = re.search(r"Calls used against each system's limit: ([^<]*)", page)[1]
    assert re.search(r"HubSpot \d+ of 100 calls in 10 seconds", limits), limits
    assert re.search(r"QuickBooks Online \d+ of 500 calls a minute", limits), limits
    # What the judgement rests on: the CRM's last webhook, the last sync, the pull's interval.
    assert re.search(r"Last webhook from HubSpot: [^<]* ago\. Last sync finished: ", page)
    assert "picked up by the pull every 15 minutes" in page
    board = client.get(reverse("dashboard")).content.decode()
    assert "Integration degraded" in board

    webhooks(live, sandbox, on=True)
    live.company(name="Back Builders", zip="78703")
    assert until(lambda: live.client.sync_runs.filter(kind=RunKind.WEBHOOK).count() >= 2)
    check_health()

    incident.refresh_from_db()
    assert incident.resolved_at is not None
    restored = mailoutbox[sent + 1 :]
    assert len(restored) == 1
    assert restored[0].subject == f"{live.client.name}: integration health restored"
    assert "Resolved after" in restored[0].body
    page = client.get(reverse("client_detail", args=[live.client.slug])).content.decode()
    assert 'class="day day-degraded"' in page  # today keeps its worst condition
    assert page.count('class="day day-none"') == 29  # before it was connected: no colour
    assert "Integration degraded" not in client.get(reverse("dashboard")).content.decode()


def test_a_quiet_pull_after_missed_webhooks_is_no_all_clear(live, sandbox, mailoutbox):
    """GIVEN a client degraded because the scheduled pull found a change no webhook told of
    WHEN the next pull finds nothing new (nobody changed anything) and webhooks are still off
    THEN the client stays degraded, with no "restored" email; only a webhook arriving again
    resolves it."""
    webhooks(live, sandbox, on=False)
    live.company(name="Quiet Builders", zip="78702")
    run_customer_sync(live.client, kind=RunKind.SCHEDULED)
    check_health()
    incident = Incident.objects.get(client=live.client, resolved_at=None, kind="webhooks")
    sent = len(mailoutbox)

    run_customer_sync(live.client, kind=RunKind.SCHEDULED)  # nothing new to find
    check_health()

    incident.refresh_from_db()
    assert incident.resolved_at is None
    assert len(mailoutbox) == sent

    webhooks(live, sandbox, on=True)
    live.company(name="Back Builders", zip="78703")
    # Resolved by the webhook's own run, not at the next scheduled check.
    assert until(lambda: Incident.objects.filter(pk=incident.pk, resolved_at__isnull=False))


def test_one_clients_failure_to_check_stops_no_other(live, monkeypatch, two_firms):
    from sync import health_record

    real = health_record.record
    calls = []

    def flaky(client, now=None):
        calls.append(client.pk)
        if client.pk == live.client.pk:
            raise RuntimeError("boom")
        return real(client, now)

    monkeypatch.setattr(health_record, "record", flaky)
    other = two_firms.client_b
    other.connections.create(system="hubspot", status="active", external_id="other-portal")
    assert check_health() == 1
    assert set(calls) == {live.client.pk, other.pk}


def test_the_daily_probe_finds_a_quiet_clients_books_not_answering(
    systems, sandbox, monkeypatch, mailoutbox
):
    """Nobody called QuickBooks for two days; the probe reads the company's name (writing
    nothing): while it fails the client is degraded, once it answers the incident ends."""
    from connections import retries
    from connections.models import Connection

    monkeypatch.setattr(retries, "_wait", lambda state: 0.01)
    ensure_subscriptions()  # the app as deployed: its webhooks subscribed
    qbo = systems.qbo_connection
    Connection.objects.filter(pk=qbo.pk).update(
        last_success_at=timezone.now() - timezone.timedelta(days=2)
    )
    Connection.objects.filter(pk=systems.hub_connection.pk).update(last_success_at=timezone.now())
    faults = f"{sandbox}/sandbox/control/faults"
    plan = {"system": "quickbooks", "account": qbo.external_id}
    requests.put(faults, json={**plan, "error_rate": 1.0}, timeout=10).raise_for_status()
    before = qbo.last_success_at
    check_health()

    incident = Incident.objects.get(client=systems.client, resolved_at=None)
    assert incident.kind == "answers:QuickBooks Online"
    assert "QuickBooks Online has not answered since" in incident.words
    requests.put(faults, json=plan, timeout=10).raise_for_status()
    check_health()
    incident.refresh_from_db()
    qbo.refresh_from_db()
    assert incident.resolved_at is not None and qbo.last_success_at != before
    assert Incident.objects.filter(client=systems.client, resolved_at=None).count() == 0


def test_a_paused_webhook_subscription_at_hubspot_degrades_the_client_until_it_is_back(
    live, monkeypatch, mailoutbox
):
    """GIVEN a HubSpot client whose webhooks flow
    WHEN syncfirm's app's subscription to deal stage changes is paused at HubSpot
    THEN the next health check (from HubSpot's own list, before any change goes missing)
    turns the client degraded, naming the event and the command that mends it; once
    `hubspot_subscriptions` turns it on again, the incident is resolved."""
    from hubspot.webhooks import SubscriptionPatchRequest

    from connections import app_checks
    from connections.hubspot.subscriptions import _api

    monkeypatch.setattr(app_checks, "CHECK_EVERY", timezone.timedelta(0))
    run_customer_sync(live.client, kind=RunKind.SCHEDULED)
    check_health()
    assert not Incident.objects.filter(client=live.client).exists()

    api, app_id = _api()
    (stage,) = [s for s in api.webhooks.subscriptions_api.get_all(app_id).results
                if s.property_name == "dealstage"]  # fmt: skip
    api.webhooks.subscriptions_api.update(stage.id, app_id, SubscriptionPatchRequest(active=False))
    check_health()
    incident = Incident.objects.get(client=live.client, resolved_at=None)
    assert (incident.kind, incident.level) == ("subscriptions", "degraded")
    assert "not subscribed to deals' dealstage changing (deal.propertyChange)" in incident.words
    assert "manage.py hubspot_subscriptions" in incident.words

    assert ensure_subscriptions() == 1  # turned on again, not added twice
    check_health()
    incident.refresh_from_db()
    assert incident.resolved_at is not None
