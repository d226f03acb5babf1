"""The multi-worker benchmark's core, small: six clients' scheduled syncs (each asked twice)
and reconciliations drained by two `qcluster` processes sharing only PostgreSQL and Redis,
and every invariant of `bench/multi_worker.py` holding — each won deal invoiced once, no
client's runs overlapping, the emulators' rate limits never refusing a call that was not
waited out, nothing left running, nothing failed.

Real processes against this test's databases and its live server (the sandbox). Redis must
answer on 127.0.0.1:6379 (`.ci/run` starts it); the test uses database 11 and empties it.
"""

import sys
from pathlib import Path

from .redis_support import empty_redis, redis_url
from .sandbox.conftest import sandbox_db
from .test_redis_workers import require_postgres

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "bench"))
import multi_worker

pytestmark = sandbox_db
REDIS_URL = redis_url("multi_worker")


def test_two_worker_processes_hold_every_invariant(sandbox):
    require_postgres()
    broker = empty_redis(REDIS_URL)
    try:
        clients = multi_worker.connect_clients(sandbox, 6, customers=2, threads=2)
        multi_worker.add_won_deals(sandbox, clients, 2, tag="t")
        env = multi_worker.worker_env(sandbox, REDIS_URL, q_workers=1)
        done = multi_worker.run_round(sandbox, env, clients, workers=2, syncs=2, timeout=90)
    finally:
        broker.flushdb()
    assert done.problems == []
    assert sum(len(c.deals) for c in clients) == 12
    assert done.sync_runs >= 6  # a second ask ran after the first, or folded into it
    assert done.calls > 0
