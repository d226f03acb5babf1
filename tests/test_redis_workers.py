"""qcluster processes on the Redis broker share sync work, do none of it twice, and one
client's stuck lease holds up no other client.

Real processes (`manage.py qcluster`, REDIS_URL set) against this test's databases and its
live server (the sandbox); tasks enqueued from another process. Redis must answer on
127.0.0.1:6379 (`.ci/run` starts it when it does not); the tests use their own databases
(`redis_support.DATABASES`) and empty them.
"""

import os
import subprocess
import sys
import time
from itertools import pairwise
from pathlib import Path

import pytest
from django.conf import settings
from django.utils import timezone
from django_q.models import Schedule, Task

from clients.models import Client
from connections.models import Connection, DeliveryStatus, WebhookDelivery
from sandbox.consent import consent
from sync.customers import run_customer_sync
from sync.models import (
    CustomerLink,
    InvoiceLink,
    InvoiceState,
    RunKind,
    RunStatus,
    SyncRun,
    SyncSettings,
)

from .conftest import finish_consent, start_direct
from .factories import ClientFactory
from .redis_support import empty_redis, redis_url
from .sandbox.conftest import sandbox_db
from .sync_support import DEAL_TO_COMPANY, LINE_ITEM_TO_DEAL, _to
from .test_sync_leases import company_created, dead_worker_lease, ready_for_webhooks

pytestmark = sandbox_db
ROOT = Path(__file__).resolve().parent.parent
REDIS_URL = redis_url("redis_workers")
DEALS, TASKS = 120, 8
FAIRNESS_REDIS_URL = redis_url("fairness")
BACKLOG = 40  # client A's webhooks queued ahead of client B's one


def database_url(alias: str) -> str:
    db = settings.DATABASES[alias]
    user = db.get("USER") or "postgres"
    host, port = db.get("HOST") or "127.0.0.1", db.get("PORT") or 5432
    return f"postgres://{user}@{host}:{port}/{db['NAME']}"


@pytest.fixture
def redis_broker():
    client = empty_redis(REDIS_URL)
    yield client
    client.flushdb()


@pytest.fixture
def fairness_broker():
    client = empty_redis(FAIRNESS_REDIS_URL)
    yield client
    client.flushdb()


def require_postgres() -> None:
    if settings.DATABASES["default"]["ENGINE"].endswith("sqlite3"):
        if os.environ.get("CI"):
            pytest.fail("CI must run this on PostgreSQL (.ci/run sets DATABASE_URL)")
        pytest.skip("LOUD SKIP: worker processes need the PostgreSQL test database")


def worker_env(sandbox: str, redis_url: str, workers: int) -> dict:
    return {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "syncfirm.settings.development",
        "DATABASE_URL": database_url("default"),
        "SANDBOX_DATABASE_URL": database_url("sandbox"),
        "REDIS_URL": redis_url,
        "SANDBOX_BASE_URL": sandbox,
        "PUBLIC_BASE_URL": sandbox,
        "Q_WORKERS": str(workers),
        "LOG_LEVEL": "WARNING",
    }


def start_clusters(env: dict, count: int) -> list[subprocess.Popen]:
    return [
        subprocess.Popen(
            [sys.executable, "manage.py", "qcluster"],
            cwd=ROOT,
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        for _ in range(count)
    ]


def stop_clusters(clusters: list[subprocess.Popen]) -> None:
    for cluster in clusters:
        cluster.terminate()
    for cluster in clusters:
        cluster.wait(timeout=30)


def enqueue(env: dict, code: str) -> None:
    """Run `code` in another process (the web process's role): tasks go to Redis, not inline."""
    script = f"from django_q.tasks import async_task\n{code}"
    subprocess.run(  # noqa: S603 - fixed arguments
        [sys.executable, "manage.py", "shell", "-c", script], cwd=ROOT, env=env, check=True,
        stdout=subprocess.DEVNULL,
    )  # fmt: skip


def settled(client) -> bool:
    """No run working, none owed, the lease free."""
    row = SyncSettings.objects.get(client=client)
    unfinished = SyncRun.objects.filter(client=client, finished_at=None).exists()
    return (
        not unfinished and row.pending_at is None and not row.claimed_work and not row.lease_until
    )


def test_two_workers_on_redis_invoice_each_deal_once(systems, sandbox, redis_broker):
    require_postgres()
    company = systems.company(name="Cedar Roofing", zip="78701")
    run_customer_sync(systems.client, kind=RunKind.IMPORT, full=True)
    deals = []
    for start in range(0, DEALS, 100):
        inputs = [
            {
                "properties": {
                    "dealname": f"Job {n}",
                    "dealstage": "closedwon",
                    "pipeline": "default",
                    "closedate": "2026-11-20T15:00:00Z",
                },
                "associations": [_to(company, DEAL_TO_COMPANY)],
            }
            for n in range(start, min(start + 100, DEALS))
        ]
        deals += systems.hubspot.crm.deals.batch_api.create({"inputs": inputs}).results
    lines = [
        {
            "properties": {
                "name": "Roof inspection",
                "hs_sku": "RF-INSP",
                "quantity": "1",
                "price": "185",
            },
            "associations": [_to(d.id, LINE_ITEM_TO_DEAL)],
        }
        for d in deals
    ]
    for start in range(0, len(lines), 100):
        systems.hubspot.crm.line_items.batch_api.create({"inputs": lines[start : start + 100]})

    env = worker_env(sandbox, REDIS_URL, workers=2)
    workers = start_clusters(env, 2)
    try:
        enqueue(
            env,
            f"for _ in range({TASKS}):\n"
            f"    async_task('sync.tasks.sync_client', {systems.client.pk}, 'manual')\n",
        )
        deadline = time.monotonic() + 120
        asked = Task.objects.filter(func="sync.tasks.sync_client")
        while asked.count() < TASKS or not settled(systems.client):
            assert time.monotonic() < deadline, f"{asked.count()} of {TASKS} tasks after 120 s"
            time.sleep(0.5)
    finally:
        stop_clusters(workers)

    # Tasks that found the lease taken folded into the next run; never two at once.
    manual = list(SyncRun.objects.filter(client=systems.client, kind=RunKind.MANUAL))
    assert 1 <= len(manual) <= TASKS
    spans = sorted((run.started_at, run.finished_at) for run in manual)
    assert all(ended <= began for (_, ended), (began, _) in pairwise(spans))
    invoices = systems.invoices()
    notes = [i.PrivateNote for i in invoices]
    assert len(notes) == DEALS and len(set(notes)) == DEALS
    assert InvoiceLink.objects.filter(state=InvoiceState.CREATED).count() == DEALS


def connect_second_client(client, two_firms, sandbox) -> Client:
    """Client B of the same firm, both systems connected through the consent pages."""
    beta = ClientFactory(firm=two_firms.firm_a, name="Beta Builders", slug="beta-builders")
    client.force_login(two_firms.accountant_a)
    for system in ("quickbooks", "hubspot"):
        authorize = start_direct(client, system, client_slug=beta.slug)
        finish_consent(client, consent(authorize, system, new_account_name="Beta books"))
    return beta


def test_a_dead_workers_lease_holds_up_no_other_client(
    systems, sandbox, client, two_firms, fairness_broker
):
    """GIVEN client A's lease held by a worker killed mid-run, and A's backlog of webhooks
    queued ahead of client B's one, WHEN one qcluster (two workers) works the queue, THEN
    B's webhook is synced within seconds, and A's backlog once A's lease lapses — each
    record once, no delivery lost."""
    require_postgres()
    alpha, beta = systems.client, connect_second_client(client, two_firms, sandbox)
    for each in (alpha, beta):
        ready_for_webhooks(each)
    hub_b = Connection.objects.get(client=beta, system="hubspot")
    b_api = systems.hubspot.__class__(
        access_token=hub_b.access_token, host=f"{sandbox}/sandbox/hubspot"
    )
    names = [f"Alpha job site {n}" for n in range(BACKLOG)]
    made = systems.hubspot.crm.companies.batch_api.create(
        {"inputs": [{"properties": {"name": name, "zip": "78701"}} for name in names]}
    ).results
    backlog = [company_created(systems.hub_connection, c.id) for c in made]
    b_company = b_api.crm.companies.basic_api.create({"properties": {"name": "Beta Bakery"}}).id
    b_hook = company_created(hub_b, b_company)

    dead = dead_worker_lease(alpha, seconds_left=12)  # killed mid-run 18 s ago
    Schedule.objects.update_or_create(  # the every-minute dispatcher, as the migration has it
        name="Batched customer sync of clients that are due",
        defaults={
            "func": "sync.tasks.sync_due_clients",
            "schedule_type": Schedule.MINUTES,
            "minutes": 1,
            "repeats": -1,
            "next_run": timezone.now(),
        },
    )

    env = worker_env(sandbox, FAIRNESS_REDIS_URL, workers=2)
    cluster = start_clusters(env, 1)
    try:
        enqueue(
            env,
            f"for pk in {[d.pk for d in backlog]!r} + [{b_hook.pk}]:\n"
            "    async_task('sync.tasks.process_webhook', pk)\n",
        )
        queued_at = time.monotonic()
        b_linked = CustomerLink.objects.filter(client=beta, crm_id=b_company)
        b_done = WebhookDelivery.objects.filter(pk=b_hook.pk, status=DeliveryStatus.PROCESSED)
        # The link commits with the run, the delivery is marked processed just after it:
        # both within seconds.
        while not (b_linked.exists() and b_done.exists()):
            waited = time.monotonic() - queued_at
            assert waited < 10, f"client B's webhook not synced {waited:.0f} s after it came"
            time.sleep(0.2)
        a_waiting = WebhookDelivery.objects.filter(pk__in=[d.pk for d in backlog])
        assert set(a_waiting.values_list("status", flat=True)) == {DeliveryStatus.QUEUED}

        deadline = time.monotonic() + 50  # the lease lapses, then the dispatcher's tick
        while a_waiting.filter(status=DeliveryStatus.QUEUED).exists() or not settled(alpha):
            assert time.monotonic() < deadline, "client A's backlog was not drained"
            time.sleep(0.5)
    finally:
        stop_clusters(cluster)

    assert set(a_waiting.values_list("status", flat=True)) == {DeliveryStatus.PROCESSED}
    linked = CustomerLink.objects.filter(client=alpha).values_list("crm_id", flat=True)
    assert sorted(linked) == sorted(c.id for c in made)  # every record, once
    names_in_books = [c.DisplayName for c in systems.qbo_customers()]
    assert sorted(names_in_books) == sorted(names)  # no customer twice
    dead.refresh_from_db()
    assert dead.status == RunStatus.FAILED and "Stopped without finishing" in dead.error
    runs = SyncRun.objects.filter(client=alpha, kind=RunKind.WEBHOOK).exclude(pk=dead.pk)
    assert 1 <= runs.count() <= 2  # the backlog folded into one run (two if it straddled)
