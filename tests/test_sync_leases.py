"""Leases and pending work: a client's held lease never makes a worker wait, a dead worker's
lease lapses within seconds, and no webhook is lost or run twice on the way."""

import json
import time
from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from connections.hubspot.adapter import HubSpotAdapter
from connections.models import Connection, DeliveryStatus, WebhookDelivery
from sync import leases
from sync.coalesce import SyncRequest, merge
from sync.leases import LeaseLost, client_lease
from sync.models import CustomerLink, RunKind, RunStatus, SyncRun, SyncSettings
from sync.tasks import process_webhook, sync_client, sync_due_clients

from .sandbox.conftest import sandbox_db

# -- folding requests together (pure) ----------------------------------------------------


def test_it_folds_webhooks_for_one_client_into_one_run():
    entries = []
    for company in ("11", "12", "11"):
        hook = SyncRequest(
            RunKind.WEBHOOK, crm_ids={"companies": [company]}, deliveries=[int(company)]
        )
        entries = merge(entries, hook)
    entries = merge(entries, SyncRequest(RunKind.WEBHOOK, crm_ids={"contacts": ["7"]}))

    assert len(entries) == 1
    assert entries[0]["crm_ids"] == {"companies": ["11", "12"], "contacts": ["7"]}
    assert entries[0]["deliveries"] == [11, 12]


def test_it_keeps_pulls_records_and_imports_apart_in_the_order_asked():
    entries = []
    for request in (
        SyncRequest(RunKind.IMPORT_PREVIEW, full=True, dry_run=True, user_id=4),
        SyncRequest(RunKind.WEBHOOK, crm_ids={"deals": ["9"]}),
        SyncRequest(RunKind.SCHEDULED),
        SyncRequest(RunKind.MANUAL, crm_ids={"companies": ["3"]}, user_id=5),
        SyncRequest(RunKind.SCHEDULED),
    ):
        entries = merge(entries, request)

    assert [(e["kind"], e["crm_ids"]) for e in entries] == [
        (RunKind.IMPORT_PREVIEW, None),
        (RunKind.MANUAL, {"deals": ["9"], "companies": ["3"]}),  # a person asked too
        (RunKind.SCHEDULED, None),
    ]
    assert entries[1]["user_id"] == 5


# -- the lease and its heartbeat -----------------------------------------------------------


@pytest.fixture
def quick_lease(monkeypatch):
    monkeypatch.setattr(leases, "LEASE", timedelta(seconds=1))
    monkeypatch.setattr(leases, "HEARTBEAT_SECONDS", 0.2)


def taken_by_another(client) -> bool:
    settings = SyncSettings.for_client(client)
    return not leases._take(settings.pk, "another-worker")


@pytest.mark.django_db(transaction=True)
def test_a_live_lease_outlasts_one_long_provider_call(two_firms, quick_lease):
    with client_lease(two_firms.client_a) as lease:
        time.sleep(2.5)  # one call, no safe point, 2.5 leases long
        assert taken_by_another(two_firms.client_a)
        lease.check()  # still ours

    assert not taken_by_another(two_firms.client_a)  # released on the way out


@pytest.mark.django_db(transaction=True)
def test_a_lease_whose_heartbeat_stopped_lapses(two_firms, quick_lease):
    with client_lease(two_firms.client_a) as lease:
        lease.stop()  # the worker is frozen or gone: no more beats
        assert taken_by_another(two_firms.client_a) is True  # not yet: it lapses first
        time.sleep(1.3)
        assert taken_by_another(two_firms.client_a) is False  # another worker took over
        with pytest.raises(LeaseLost):
            lease.check()  # the old holder, woken, writes nothing more


# -- pending work, with real syncs against the sandbox ---------------------------------------


def ready_for_webhooks(client) -> None:
    """Import approved; a scheduled pull just ran, so the dispatcher only has stranded work."""
    settings = SyncSettings.for_client(client)
    settings.import_done_at, settings.invoices_on = timezone.now(), False
    settings.save()
    now = timezone.now()
    SyncRun.objects.create(
        client=client, kind=RunKind.SCHEDULED, status="succeeded", finished_at=now
    )


def company_created(connection: Connection, company_id: str) -> WebhookDelivery:
    """A HubSpot delivery as the receiver stores it once its signature checked out."""
    event = {
        "objectId": int(company_id),
        "eventId": int(company_id),
        "subscriptionType": "company.creation",
        "portalId": int(connection.external_id),
        "occurredAt": int(time.time() * 1000),
    }
    return WebhookDelivery.objects.create(
        system="hubspot",
        account_id=connection.external_id,
        connection=connection,
        body=json.dumps([event]),
        body_sha256=f"{connection.pk}-{company_id}",
        signature=f"sig-{connection.pk}-{company_id}",
    )


def hubspot_delivery(systems, company_id: str) -> WebhookDelivery:
    return company_created(systems.hub_connection, company_id)


def dead_worker_lease(client, seconds_left: float) -> SyncRun:
    """A worker killed mid-run: its run unfinished, its lease beating no more."""
    dead = SyncRun.objects.create(client=client, kind=RunKind.WEBHOOK, stage="Reading the CRM")
    SyncSettings.objects.filter(client=client).update(
        lease_run=dead.pk, lease_until=timezone.now() + timedelta(seconds=seconds_left)
    )
    return dead


def customers_named(systems, name: str) -> int:
    return sum(c.DisplayName == name for c in systems.qbo_customers())


@sandbox_db
def test_a_webhook_for_a_client_held_by_a_dead_worker_waits_then_runs_once(systems):
    ready_for_webhooks(systems.client)
    company = systems.company(name="Cedar Roofing", zip="78701")
    dead = dead_worker_lease(systems.client, seconds_left=30)
    delivery = hubspot_delivery(systems, company)

    started = time.monotonic()
    process_webhook(delivery.pk)

    assert time.monotonic() - started < 2  # the worker was not kept waiting
    delivery.refresh_from_db()
    assert delivery.status == DeliveryStatus.QUEUED  # not processed before its sync ran
    assert not CustomerLink.objects.filter(client=systems.client).exists()
    sync_due_clients()  # the lease has not lapsed: nothing starts
    assert SyncRun.objects.filter(client=systems.client).count() == 2

    SyncSettings.objects.filter(client=systems.client).update(lease_until=timezone.now())
    sync_due_clients()  # the next minute's dispatcher, after the lease lapsed
    sync_due_clients()

    delivery.refresh_from_db()
    assert delivery.status == DeliveryStatus.PROCESSED
    assert CustomerLink.objects.filter(client=systems.client, crm_id=company).count() == 1
    assert customers_named(systems, "Cedar Roofing") == 1
    assert SyncRun.objects.filter(client=systems.client, kind=RunKind.WEBHOOK).count() == 2
    dead.refresh_from_db()
    assert dead.status == RunStatus.FAILED and "Stopped without finishing" in dead.error


@sandbox_db
def test_work_asked_for_during_a_run_is_handed_on_when_it_ends(systems):
    ready_for_webhooks(systems.client)
    first = systems.company(name="Birch Builders", zip="78702")
    second = systems.company(name="Aspen Electric", zip="78703")
    asked = systems.company(name="Maple Plumbing", zip="78704")
    deliveries = [hubspot_delivery(systems, first), hubspot_delivery(systems, second)]

    with client_lease(systems.client):  # a run of this client is working
        started = time.monotonic()
        for delivery in deliveries:
            process_webhook(delivery.pk)
        said = sync_client(systems.client.pk, RunKind.MANUAL, crm_ids={"companies": [asked]})
        assert time.monotonic() - started < 2
        assert said == "Queued behind the client's current sync"
        assert not CustomerLink.objects.filter(client=systems.client).exists()

    # Released: the pending work ran (a task of its own), folded into one run.
    assert {d.status for d in WebhookDelivery.objects.all()} == {DeliveryStatus.PROCESSED}
    linked = set(CustomerLink.objects.values_list("crm_id", flat=True))
    assert linked == {first, second, asked}
    runs = SyncRun.objects.filter(client=systems.client).exclude(kind=RunKind.SCHEDULED)
    assert [(r.kind, r.status) for r in runs] == [(RunKind.MANUAL, RunStatus.SUCCEEDED)]
    settings = SyncSettings.for_client(systems.client)
    assert settings.pending_at is None and settings.claimed_work == []


@sandbox_db
def test_a_webhook_whose_run_was_killed_is_redone_not_lost(systems, monkeypatch):
    ready_for_webhooks(systems.client)
    company = systems.company(name="Cedar Roofing", zip="78701")
    delivery = hubspot_delivery(systems, company)

    def killed(self, *args, **kwargs):
        raise SystemExit("worker killed")

    monkeypatch.setattr(HubSpotAdapter, "read_records", killed)
    with pytest.raises(SystemExit):
        process_webhook(delivery.pk)
    monkeypatch.undo()

    delivery.refresh_from_db()
    assert delivery.status == DeliveryStatus.QUEUED
    assert SyncSettings.for_client(systems.client).claimed_work != []  # owed, and known to be
    sync_due_clients()  # the dead worker's lease has lapsed (here: released on exit)

    delivery.refresh_from_db()
    assert delivery.status == DeliveryStatus.PROCESSED
    assert customers_named(systems, "Cedar Roofing") == 1
    killed_run, redone = SyncRun.objects.filter(kind=RunKind.WEBHOOK).order_by("started_at")
    assert killed_run.status == RunStatus.FAILED and "Stopped without finishing" in killed_run.error
    assert redone.status == RunStatus.SUCCEEDED
    assert SyncSettings.for_client(systems.client).claimed_work == []


@sandbox_db
def test_a_delivery_whose_task_was_lost_is_picked_up_by_the_dispatcher(systems):
    ready_for_webhooks(systems.client)
    company = systems.company(name="Cedar Roofing", zip="78701")
    delivery = hubspot_delivery(systems, company)  # stored, but its task never ran
    WebhookDelivery.objects.filter(pk=delivery.pk).update(
        received_at=timezone.now() - timedelta(minutes=2)
    )

    sync_due_clients()

    delivery.refresh_from_db()
    assert delivery.status == DeliveryStatus.PROCESSED
    assert CustomerLink.objects.filter(client=systems.client, crm_id=company).count() == 1


@pytest.mark.django_db
def test_it_tells_the_accountant_that_work_is_queued(client, two_firms):
    SyncSettings.objects.create(client=two_firms.client_a, pending_at=timezone.now())
    client.force_login(two_firms.accountant_a)

    page = client.get(reverse("client_sync", args=[two_firms.client_a.slug]))

    assert "is queued; it runs when the sync working on this client ends" in page.text
    assert 'hx-trigger="every 2s"' in page.text  # the page follows it until it has run
