"""A Redis database emptied for a test: CI must have Redis (`.ci/run` starts it); elsewhere
its absence is a loud skip."""

import os

import pytest
import redis

# One Redis database per test that needs one. xdist runs these tests at the same time in
# different workers; two sharing a database empty each other's queue (flushdb) and their
# qcluster processes take each other's tasks (CI failed so once: production stack and
# redis workers, both on 14). A database is asked for by name, so none is used twice.
DATABASES = {
    "production_stack": 10,
    "multi_worker": 11,
    "fairness": 12,
    "shared_cache": 13,
    "redis_workers": 14,
}
assert len(set(DATABASES.values())) == len(DATABASES), "two tests share a Redis database"


def redis_url(purpose: str) -> str:
    return f"redis://127.0.0.1:6379/{DATABASES[purpose]}"


def empty_redis(url: str):
    client = redis.Redis.from_url(url)
    try:
        client.ping()
    except redis.ConnectionError:
        if os.environ.get("CI"):
            raise  # CI must run it: .ci/run starts Redis
        pytest.skip("LOUD SKIP: Redis is not running on 127.0.0.1:6379; start redis-server")
    client.flushdb()
    return client
