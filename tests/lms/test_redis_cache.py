"""The Redis cache backend used in production (lms.redis_cache.ReusingRedisCache)."""

import os
import socket
import uuid

import pytest

from lms.redis_cache import ReusingRedisCache

REDIS = ("127.0.0.1", 6379)


def redis_answers() -> bool:
    try:
        with socket.create_connection(REDIS, timeout=1) as conn:
            conn.sendall(b"PING\r\n")
            return conn.recv(16).startswith(b"+PONG")
    except OSError:
        return False


@pytest.fixture
def redis_cache():
    if not redis_answers():
        if os.environ.get("REQUIRE_REDIS"):
            pytest.fail("Redis is not answering at 127.0.0.1:6379 (CI starts it)")
        pytest.skip("no Redis at 127.0.0.1:6379")
    cache = ReusingRedisCache(
        f"redis://{REDIS[0]}:{REDIS[1]}/14", {"KEY_PREFIX": f"test-{uuid.uuid4().hex}"}
    )
    yield cache
    cache.close()


def test_one_client_serves_every_call(redis_cache):
    client = redis_cache._cache.get_client("a")
    assert redis_cache._cache.get_client("b") is client
    assert redis_cache._cache.get_client("c", write=True) is client  # one server: one pool


def test_it_behaves_like_djangos_redis_cache(redis_cache):
    assert redis_cache.get("missing") is None
    redis_cache.set("page", {"content": b"<html>", "gens": (1, 2, 3)}, 30)
    assert redis_cache.get("page") == {"content": b"<html>", "gens": (1, 2, 3)}
    assert redis_cache.add("page", "other") is False
    assert redis_cache.add("fresh", 5, None) is True
    assert redis_cache.get_many(["page", "fresh", "missing"]) == {
        "page": {"content": b"<html>", "gens": (1, 2, 3)},
        "fresh": 5,
    }
    redis_cache.delete("page")
    assert redis_cache.get("page") is None
    assert redis_cache.incr("fresh") == 6
