"""Two qcluster processes on the Redis broker share sync work and do none of it twice.

Real processes (`manage.py qcluster`, REDIS_URL set) against this test's databases and its
live server (the sandbox); tasks enqueued from a third process. Redis must answer on
127.0.0.1:6379 (`.ci/run` starts it when it does not); the test uses database 14 and
empties it.
"""

import os
import subprocess
import sys
import time
from pathlib import Path

import pytest
import redis
from django.conf import settings

from connections.sync.customers import run_customer_sync
from connections.sync.models import InvoiceLink, InvoiceState, RunKind, SyncRun

from .sandbox.conftest import sandbox_db
from .sync_support import DEAL_TO_COMPANY, LINE_ITEM_TO_DEAL, _to
from .test_invoice_sync import income_account

pytestmark = sandbox_db
ROOT = Path(__file__).resolve().parent.parent
REDIS_URL = "redis://127.0.0.1:6379/14"
DEALS, TASKS = 120, 8


def database_url(alias: str) -> str:
    db = settings.DATABASES[alias]
    user = db.get("USER") or "postgres"
    host, port = db.get("HOST") or "127.0.0.1", db.get("PORT") or 5432
    return f"postgres://{user}@{host}:{port}/{db['NAME']}"


@pytest.fixture
def redis_broker():
    client = redis.Redis.from_url(REDIS_URL)
    try:
        client.ping()
    except redis.ConnectionError:
        if os.environ.get("CI"):
            raise  # CI must run it: .ci/run starts Redis
        pytest.skip("LOUD SKIP: Redis is not running on 127.0.0.1:6379; start redis-server")
    client.flushdb()
    yield client
    client.flushdb()


def test_two_workers_on_redis_invoice_each_deal_once(systems, sandbox, redis_broker):
    if settings.DATABASES["default"]["ENGINE"].endswith("sqlite3"):
        if os.environ.get("CI"):
            pytest.fail("CI must run this on PostgreSQL (.ci/run sets DATABASE_URL)")
        pytest.skip("LOUD SKIP: worker processes need the PostgreSQL test database")
    income_account(systems)
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

    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "syncfirm.settings.development",
        "DATABASE_URL": database_url("default"),
        "SANDBOX_DATABASE_URL": database_url("sandbox"),
        "REDIS_URL": REDIS_URL,
        "SANDBOX_BASE_URL": sandbox,
        "PUBLIC_BASE_URL": sandbox,
        "Q_WORKERS": "2",
        "LOG_LEVEL": "WARNING",
    }
    workers = [
        subprocess.Popen(
            [sys.executable, "manage.py", "qcluster"],
            cwd=ROOT,
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        for _ in range(2)
    ]
    try:
        enqueue = (
            "from django_q.tasks import async_task\n"
            f"for _ in range({TASKS}):\n"
            f"    async_task('connections.tasks.sync_client', {systems.client.pk}, 'manual')\n"
        )
        subprocess.run(  # noqa: S603 - fixed arguments
            [sys.executable, "manage.py", "shell", "-c", enqueue], cwd=ROOT, env=env, check=True,
            stdout=subprocess.DEVNULL,
        )  # fmt: skip
        deadline = time.monotonic() + 120
        manual = SyncRun.objects.filter(client=systems.client, kind=RunKind.MANUAL)
        while manual.filter(finished_at__isnull=False).count() < TASKS:
            assert time.monotonic() < deadline, f"{manual.count()} of {TASKS} runs after 120 s"
            time.sleep(0.5)
    finally:
        for worker in workers:
            worker.terminate()
        for worker in workers:
            worker.wait(timeout=30)

    assert manual.count() == TASKS  # every task ran, and ran once
    invoices = systems.invoices()
    notes = [i.PrivateNote for i in invoices]
    assert len(notes) == DEALS and len(set(notes)) == DEALS
    assert InvoiceLink.objects.filter(state=InvoiceState.CREATED).count() == DEALS
