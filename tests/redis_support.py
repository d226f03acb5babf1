"""A Redis database emptied for a test: CI must have Redis (`.ci/run` starts it); elsewhere
its absence is a loud skip."""

import os

import pytest
import redis


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
