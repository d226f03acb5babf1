"""What an orchestrator and a monitoring system see: /healthz, /readyz with each check named,
request ids carried into tasks and log lines, and the Prometheus series at /metrics for a
scraper holding the token only."""

import logging

import pytest
from django.test import override_settings
from django_q.models import Task
from django_q.tasks import async_task

from connections.adapters import accounting_adapter
from syncfirm import request_id
from syncfirm.metrics import PROVIDER_CALLS

from .sandbox.conftest import sandbox_db

TOKEN = "scrape-" + "x" * 40
SERIES = (
    "syncfirm_http_requests_total",
    "syncfirm_http_request_duration_seconds",
    "syncfirm_task_duration_seconds",
    "syncfirm_task_failures_total",
    "syncfirm_provider_calls_total",
    "syncfirm_rate_limit_waits_total",
    "syncfirm_queue_depth",
    "syncfirm_sync_lag_seconds",
)


def test_healthz_answers_without_a_login(client, db):
    response = client.get("/healthz")
    assert response.status_code == 200 and response.json() == {"status": "ok"}


def test_readyz_is_ready_when_database_cache_broker_and_migrations_are(client, db):
    response = client.get("/readyz")
    assert response.status_code == 200, response.json()
    assert response.json()["checks"] == {
        "database": "ok",
        "cache": "ok",
        "broker": "ok",
        "migrations": "ok",
    }


@override_settings(CACHES={"default": {"BACKEND": "django.core.cache.backends.dummy.DummyCache"}})
def test_readyz_says_which_check_fails_and_is_503(client, db):
    response = client.get("/readyz")
    assert response.status_code == 503
    body = response.json()
    assert body["status"] == "not ready"
    # The kind of failure only: the page is public; the details go to the log.
    assert body["checks"]["cache"] == "failing: RuntimeError"
    assert body["checks"]["database"] == "ok"


def test_each_response_carries_a_request_id_and_keeps_a_proxys(client, db):
    made = client.get("/healthz")["X-Request-ID"]
    assert len(made) == 32
    assert client.get("/healthz", HTTP_X_REQUEST_ID="lb-7f3a")["X-Request-ID"] == "lb-7f3a"
    odd = client.get("/healthz", HTTP_X_REQUEST_ID="a b\x00c")["X-Request-ID"]
    assert odd != "a b\x00c" and len(odd) == 32


def seen_request_id() -> str:
    return request_id.current.get()


def test_a_task_queued_in_a_request_logs_under_the_requests_id(db):
    token = request_id.current.set("req-123")
    try:
        task_id = async_task("tests.test_health.seen_request_id")
    finally:
        request_id.current.reset(token)
    assert Task.objects.get(id=task_id).result == "req-123"
    record = logging.LogRecord("x", logging.INFO, "", 0, "hello", (), None)
    request_id.current.set("req-456")
    request_id.RequestIdFilter().filter(record)
    assert record.request_id == "req-456"


def test_metrics_do_not_exist_without_a_token_setting(client, db):
    with override_settings(METRICS_TOKEN=""):
        assert client.get("/metrics").status_code == 404


@override_settings(METRICS_TOKEN=TOKEN)
def test_metrics_need_the_token_and_name_every_series(client, db):
    assert client.get("/metrics").status_code == 401
    assert client.get("/metrics", HTTP_AUTHORIZATION="Bearer wrong").status_code == 401
    async_task("tests.test_health.seen_request_id")  # a task's duration is measured
    client.get("/healthz")
    page = client.get("/metrics", HTTP_AUTHORIZATION=f"Bearer {TOKEN}")
    assert page.status_code == 200
    text = page.content.decode()
    for name in SERIES:
        assert f"# TYPE {name}" in text or f"# HELP {name}" in text, name
    assert 'syncfirm_http_requests_total{method="GET",status="200"}' in text
    assert 'task="tests.test_health.seen_request_id"' in text
    assert "syncfirm_queue_depth 0.0" in text


@sandbox_db
def test_provider_calls_are_counted_by_system_and_outcome(connected):
    books = accounting_adapter(connected("quickbooks"))
    before = PROVIDER_CALLS.labels("quickbooks", "ok")._value.get()
    books.account_info()
    assert PROVIDER_CALLS.labels("quickbooks", "ok")._value.get() > before


@pytest.mark.parametrize("value", ["xml", ""])
def test_an_unknown_log_format_is_refused_at_start(value, monkeypatch):
    import importlib

    from django.core.exceptions import ImproperlyConfigured

    import syncfirm.settings.base as base

    monkeypatch.setenv("LOG_FORMAT", value)
    if value == "":
        monkeypatch.delenv("LOG_FORMAT")
        importlib.reload(base)  # the default, plain, is accepted
        return
    with pytest.raises(ImproperlyConfigured, match="LOG_FORMAT is plain or json"):
        importlib.reload(base)
    monkeypatch.delenv("LOG_FORMAT")
    importlib.reload(base)
