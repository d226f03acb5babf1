"""The production stack comes up from the README's command (`make serve`, that is
scripts/serve_production.sh) with production settings, gunicorn and two qcluster processes
against PostgreSQL and Redis; /readyz passes, the log lines are JSON, the metrics of every
process (web and workers) show at /metrics, and TERM stops it all."""

import json
import os
import secrets
import signal
import socket
import subprocess
import time
from pathlib import Path

import psycopg
import pytest
import requests
from cryptography.fernet import Fernet
from django.conf import settings

from .redis_support import redis_url
from .test_redis_workers import database_url, empty_redis, require_postgres

ROOT = Path(__file__).resolve().parent.parent
REDIS_URL = redis_url("production_stack")
TOKEN = secrets.token_urlsafe(24)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture
def database():
    """A database of its own: the stack migrates it itself, as in production."""
    require_postgres()
    server = database_url("default").rsplit("/", 1)[0]
    name = f"{settings.DATABASES['default']['NAME']}_stack"
    with psycopg.connect(f"{server}/postgres", autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        conn.execute(f'CREATE DATABASE "{name}"')
    yield f"{server}/{name}"
    with psycopg.connect(f"{server}/postgres", autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@pytest.fixture
def stack(database, tmp_path):
    redis = empty_redis(REDIS_URL)
    port = free_port()
    env = {
        **{k: v for k, v in os.environ.items() if not k.startswith(("DJANGO_", "DATABASE"))},
        "PY": str(ROOT / ".venv/bin/python"),
        "SECRET_KEY": secrets.token_urlsafe(60),
        "DATABASE_URL": database,
        "REDIS_URL": REDIS_URL,
        "FIELD_ENCRYPTION_KEYS": Fernet.generate_key().decode(),
        "ALLOWED_HOSTS": "127.0.0.1",
        "PORT": str(port),
        "METRICS_TOKEN": TOKEN,
        "EMAIL_URL": "smtp://127.0.0.1:2525",
        "PROMETHEUS_MULTIPROC_DIR": str(tmp_path),
        "Q_WORKERS": "1",
    }
    log = (tmp_path / "stack.log").open("w")
    script = str(ROOT / "scripts/serve_production.sh")
    process = subprocess.Popen(  # noqa: S603 - our own script, our own environment
        [script], cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True
    )
    base = f"http://127.0.0.1:{port}"
    try:
        yield base, process, tmp_path / "stack.log"
    finally:
        if process.poll() is None:
            os.killpg(process.pid, signal.SIGTERM)
            try:
                process.wait(30)
            except subprocess.TimeoutExpired:
                os.killpg(process.pid, signal.SIGKILL)
        log.close()
        redis.flushdb()


def wait_for(check, seconds: float):
    deadline = time.monotonic() + seconds
    while True:
        try:
            found = check()
            if found:
                return found
        except (requests.ConnectionError, requests.Timeout):
            pass  # not up yet, or a first answer slow on a loaded machine (gunicorn warming)
        if time.monotonic() > deadline:
            raise AssertionError("gave up waiting")
        time.sleep(0.5)


def test_the_production_stack_comes_up_ready_and_stops_on_term(stack):
    base, process, log = stack
    ready = wait_for(lambda: requests.get(f"{base}/readyz", timeout=5), 120)
    assert ready.status_code == 200, ready.text
    assert ready.json()["checks"] == {
        "database": "ok", "cache": "ok", "broker": "ok", "migrations": "ok"
    }  # fmt: skip
    assert requests.get(f"{base}/healthz", timeout=5).json() == {"status": "ok"}
    assert requests.get(f"{base}/metrics", timeout=5).status_code == 401
    # The scheduled pull runs in a qcluster process; its duration shows beside the web's.
    auth = {"Authorization": f"Bearer {TOKEN}"}

    def scraped():
        text = requests.get(f"{base}/metrics", headers=auth, timeout=5).text
        done = 'syncfirm_task_duration_seconds_count{task="sync.tasks.sync_due_clients"}'
        return text if done in text else None

    text = wait_for(scraped, 90)
    assert 'syncfirm_http_requests_total{method="GET",status="200"}' in text
    assert "syncfirm_queue_depth" in text and "syncfirm_sync_lag_seconds" in text
    lines = [line for line in log.read_text().splitlines() if line.startswith("{")]
    assert lines, "the app logs one JSON object per line"
    assert all({"time", "level", "logger", "message"} <= set(json.loads(line)) for line in lines)

    # TERM to the script alone, as a supervisor or a container runtime sends it: the script
    # stops each part in order (a TERM to every process at once would cut qcluster's own
    # orderly stop short).
    process.send_signal(signal.SIGTERM)
    assert process.wait(30) == 0
    with pytest.raises(requests.ConnectionError):
        requests.get(f"{base}/healthz", timeout=2)
