"""gunicorn settings for the production stack (scripts/serve_production.sh, the container)."""

import os

bind = f"{os.environ.get('HOST', '0.0.0.0')}:{os.environ.get('PORT', '8000')}"  # noqa: S104
workers = int(os.environ.get("WEB_WORKERS", "2"))
threads = int(os.environ.get("WEB_THREADS", "4"))
timeout = 60
graceful_timeout = 10  # a stop waits this long for requests under way
accesslog = "-"  # access lines to stdout; the app's own logs carry the request id
# Invitation links carry their credential in the path: the access log keeps the path only
# up to its first 40 characters (the app's own log filter blanks secrets in its lines).
access_log_format = '%(h)s "%(m)s %(U).40s" %(s)s %(b)s %(M)sms'


def child_exit(server, worker) -> None:
    """A dead worker's metric files stop counting as live (prometheus_client multiprocess)."""
    if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        from prometheus_client import multiprocess

        multiprocess.mark_process_dead(worker.pid)
