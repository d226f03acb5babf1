"""The Prometheus series syncfirm exports at `/metrics` (syncfirm/health.py), through the
official `prometheus_client`.

Counted where things happen: requests (middleware), background tasks (django-q2 signals in
the worker), provider calls by outcome (connections/calls.py) and rate-limit waits
(connections/retries.py). Measured when scraped: queue depth and sync lag, from the
database every process shares (`scrape_collectors`, filled by the apps that know them), so
several machines report one truth.

Several processes on one machine (gunicorn workers, qcluster workers) share their counts
through `PROMETHEUS_MULTIPROC_DIR` (prometheus_client's multiprocess mode), which the
production start script sets.
"""

import time

from prometheus_client import Counter, Histogram

REQUESTS = Counter(
    "syncfirm_http_requests_total", "Requests answered, by method and status.", ["method", "status"]
)
REQUEST_SECONDS = Histogram(
    "syncfirm_http_request_duration_seconds", "Time to answer a request.", ["method"]
)
TASK_SECONDS = Histogram(
    "syncfirm_task_duration_seconds",
    "Time a background task ran, by task.",
    ["task"],
    buckets=(0.05, 0.1, 0.5, 1, 2.5, 5, 10, 30, 60, 120, 300, 600),
)
TASK_FAILURES = Counter("syncfirm_task_failures_total", "Background tasks that failed.", ["task"])
PROVIDER_CALLS = Counter(
    "syncfirm_provider_calls_total",
    "Calls to a provider's API, by system and outcome (ok, throttled, server_error, "
    "unauthorised, refused).",
    ["system", "outcome"],
)
RATE_LIMIT_WAITS = Counter(
    "syncfirm_rate_limit_waits_total", "Times a provider's rate limit made syncfirm wait."
)
RATE_LIMIT_WAIT_SECONDS = Counter(
    "syncfirm_rate_limit_wait_seconds_total", "Seconds spent waiting out rate limits."
)

# Collectors asked at each scrape (prometheus_client's custom collector protocol).
scrape_collectors: list = []


class RequestMetricsMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        started = time.perf_counter()
        response = self.get_response(request)
        method = request.method if request.method in _METHODS else "OTHER"
        REQUESTS.labels(method, str(response.status_code)).inc()
        REQUEST_SECONDS.labels(method).observe(time.perf_counter() - started)
        return response


_METHODS = {"GET", "POST", "PUT", "PATCH", "DELETE", "HEAD", "OPTIONS"}
_started: dict[str, float] = {}


def task_started(sender, func, task: dict, **kwargs) -> None:
    _started[task["id"]] = time.perf_counter()


def task_finished(sender, func, task: dict, **kwargs) -> None:
    """django-q2 `post_execute_in_worker`: in the process that ran it."""
    name = task["func"] if isinstance(task["func"], str) else getattr(func, "__name__", "?")
    started = _started.pop(task["id"], None)
    if started is not None:
        TASK_SECONDS.labels(name).observe(time.perf_counter() - started)
    if not task.get("success", False):
        TASK_FAILURES.labels(name).inc()


def rate_limit_wait(seconds: float) -> None:
    RATE_LIMIT_WAITS.inc()
    RATE_LIMIT_WAIT_SECONDS.inc(seconds)
