"""What an orchestrator and a monitoring system ask of a running process.

- `/healthz`: the process answers (nothing else is checked: a database outage must not get
  every web process restarted).
- `/readyz`: the database answers, the cache keeps a value, the task broker answers, and no
  migration is waiting; 503 with the failing checks named otherwise.
- `/metrics`: the Prometheus series (syncfirm/metrics.py), for a scraper holding
  `METRICS_TOKEN` as a Bearer token; without that setting the page does not exist.
"""

import hmac
import logging
import os
import uuid

from django.conf import settings
from django.core.cache import cache
from django.db import DEFAULT_DB_ALIAS, connections
from django.db.migrations.executor import MigrationExecutor
from django.http import HttpResponse, JsonResponse
from django.views.decorators.cache import never_cache
from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, generate_latest
from prometheus_client import REGISTRY as PROCESS_REGISTRY

from . import metrics

log = logging.getLogger(__name__)


@never_cache
def healthz(request):
    return JsonResponse({"status": "ok"})


def _database() -> None:
    with connections[DEFAULT_DB_ALIAS].cursor() as cursor:
        cursor.execute("SELECT 1")


def _cache() -> None:
    key, value = f"readyz:{uuid.uuid4().hex}", "1"
    cache.set(key, value, 10)
    if cache.get(key) != value:
        raise RuntimeError("a value set was not read back")
    cache.delete(key)


def _broker() -> None:
    from django_q.brokers import get_broker

    if not get_broker().ping():
        raise RuntimeError("the broker did not answer")


_migrated = False  # once seen applied, they stay so for this process (a deploy restarts it)


def _migrations() -> None:
    """Reading the migration graph costs most of a second: done until it passes, not on
    every probe (the page is public)."""
    global _migrated
    if _migrated:
        return
    connection = connections[DEFAULT_DB_ALIAS]
    executor = MigrationExecutor(connection)
    waiting = executor.migration_plan(executor.loader.graph.leaf_nodes())
    if waiting:
        raise RuntimeError(f"{len(waiting)} migration(s) not applied")
    _migrated = True


CHECKS = {"database": _database, "cache": _cache, "broker": _broker, "migrations": _migrations}


@never_cache
def readyz(request):
    results = {}
    for name, check in CHECKS.items():
        try:
            check()
            results[name] = "ok"
        except Exception as error:
            # The page is public: the kind of failure only; its text (hosts, user names)
            # goes to the log with the request id.
            log.warning("readyz: %s failing: %r", name, error)
            results[name] = f"failing: {type(error).__name__}"
    ready = all(value == "ok" for value in results.values())
    return JsonResponse(
        {"status": "ready" if ready else "not ready", "checks": results},
        status=200 if ready else 503,
    )


def _authorised(request) -> bool:
    token = settings.METRICS_TOKEN
    given = request.headers.get("Authorization", "").removeprefix("Bearer ").strip()
    return bool(token) and hmac.compare_digest(given.encode(), token.encode())


@never_cache
def metrics_page(request):
    if not settings.METRICS_TOKEN:
        return HttpResponse(status=404)
    if not _authorised(request):
        response = HttpResponse("A Bearer token is needed.", status=401)
        response["WWW-Authenticate"] = 'Bearer realm="metrics"'
        return response
    if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        from prometheus_client import multiprocess

        counted = CollectorRegistry()
        multiprocess.MultiProcessCollector(counted)
    else:
        counted = PROCESS_REGISTRY
    measured = CollectorRegistry()
    for collector in metrics.scrape_collectors:
        measured.register(collector)
    body = generate_latest(counted) + generate_latest(measured)
    return HttpResponse(body, content_type=CONTENT_TYPE_LATEST)
