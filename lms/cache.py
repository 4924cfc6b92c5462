"""The Redis cache, degraded instead of broken while Redis is down.

Django's `RedisCache` raises on every call when Redis cannot be reached, so
each page that reads the cache would answer 500. `ResilientRedisCache` is the
same backend (same keys, same serializer, same options) with one difference:

- Redis unreachable (connection refused or reset, a timeout) is a miss for a
  read (`get` gives the default, `get_many` nothing, `add` and `has_key`
  False, `incr` ValueError as for a missing key) and a lost write for a write.
- After a failure, this process does not try Redis again for `RETRY_AFTER`
  seconds: a request does not pay a connection attempt per cache call.
- Every key this process failed to set or delete meanwhile is deleted from
  Redis when it answers again, before anything else is read, so a value that
  changed during the outage (a session signed out, a lesson generation moved)
  cannot come back from before it. The keys are remembered per process, up to
  `MAX_LOST_KEYS`; past that, an outage of that length is logged as an error.
- Anything else Redis answers (a wrong type, a full memory) still raises.

Sessions (`cached_db`) thus fall back to the database, and pages stay up; the
health view reports the cache as degraded. The default cache of the settings
with `REDIS_URL` set.
"""

from __future__ import annotations

import logging
import threading
import time

from django.core.cache.backends.base import DEFAULT_TIMEOUT
from django.core.cache.backends.redis import RedisCache
from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import TimeoutError as RedisTimeoutError

logger = logging.getLogger(__name__)

UNREACHABLE = (RedisConnectionError, RedisTimeoutError)
_MISSING = object()


class _Outage:
    """What every thread's cache object of one Redis server knows about its outage."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.down_until = 0.0
        self.lost: set[tuple[str, int | None]] = set()
        self.overflowed = False

    def is_down(self) -> bool:
        return time.monotonic() < self.down_until


_outages: dict[str, _Outage] = {}
_outages_lock = threading.Lock()


class ResilientRedisCache(RedisCache):
    RETRY_AFTER = 5.0  # seconds without trying Redis after it failed
    MAX_LOST_KEYS = 10_000

    def __init__(self, server, params):
        super().__init__(server, params)
        location = server if isinstance(server, str) else ",".join(server)
        with _outages_lock:
            self._outage = _outages.setdefault(location, _Outage())

    # --- state ---------------------------------------------------------------------

    @property
    def available(self) -> bool:
        """False while this process takes Redis for down (health reports it)."""
        return not self._outage.is_down()

    def _failed(self, exc: Exception) -> None:
        outage = self._outage
        with outage.lock:
            first = not outage.is_down()
            outage.down_until = time.monotonic() + self.RETRY_AFTER
        if first:
            logger.warning("Redis cache unreachable, serving without it: %s", exc)

    def _lose(self, keys, version) -> None:
        outage = self._outage
        with outage.lock:
            for key in keys:
                if len(outage.lost) >= self.MAX_LOST_KEYS:
                    if not outage.overflowed:
                        logger.error(
                            "Redis cache: more than %d writes lost during an outage; "
                            "values from before it may be served until they expire",
                            self.MAX_LOST_KEYS,
                        )
                    outage.overflowed = True
                    break
                outage.lost.add((key, version))

    def _forget_lost(self) -> bool:
        """Delete the keys lost during an outage; False when Redis is still down."""
        outage = self._outage
        if not outage.lost:
            return True
        with outage.lock:
            lost, outage.lost = outage.lost, set()
            outage.overflowed = False
        by_version: dict[int | None, list[str]] = {}
        for key, version in lost:
            by_version.setdefault(version, []).append(key)
        try:
            for version, keys in by_version.items():
                super().delete_many(keys, version=version)
        except UNREACHABLE as exc:
            with outage.lock:
                outage.lost |= lost
            self._failed(exc)
            return False
        logger.info("Redis cache is back; %d keys written during the outage deleted", len(lost))
        return True

    def _call(self, call, default, *, writes=(), version=None):
        if self._outage.is_down() or not self._forget_lost():
            self._lose(writes, version)
            return default
        try:
            return call()
        except UNREACHABLE as exc:
            self._failed(exc)
            self._lose(writes, version)
            return default

    # --- reads -----------------------------------------------------------------------

    def get(self, key, default=None, version=None):
        return self._call(
            lambda: super(ResilientRedisCache, self).get(key, default, version), default
        )

    def get_many(self, keys, version=None):
        keys = list(keys)
        return self._call(lambda: super(ResilientRedisCache, self).get_many(keys, version), {})

    def has_key(self, key, version=None):
        return self._call(lambda: super(ResilientRedisCache, self).has_key(key, version), False)

    # --- writes ----------------------------------------------------------------------

    def add(self, key, value, timeout=DEFAULT_TIMEOUT, version=None):
        return self._call(
            lambda: super(ResilientRedisCache, self).add(key, value, timeout, version),
            False,
            writes=[key],
            version=version,
        )

    def set(self, key, value, timeout=DEFAULT_TIMEOUT, version=None):
        self._call(
            lambda: super(ResilientRedisCache, self).set(key, value, timeout, version),
            None,
            writes=[key],
            version=version,
        )

    def set_many(self, data, timeout=DEFAULT_TIMEOUT, version=None):
        keys = list(data)
        return self._call(
            lambda: super(ResilientRedisCache, self).set_many(data, timeout, version),
            keys,
            writes=keys,
            version=version,
        )

    def touch(self, key, timeout=DEFAULT_TIMEOUT, version=None):
        return self._call(
            lambda: super(ResilientRedisCache, self).touch(key, timeout, version),
            False,
            writes=[key],
            version=version,
        )

    def delete(self, key, version=None):
        return self._call(
            lambda: super(ResilientRedisCache, self).delete(key, version),
            False,
            writes=[key],
            version=version,
        )

    def delete_many(self, keys, version=None):
        keys = list(keys)
        self._call(
            lambda: super(ResilientRedisCache, self).delete_many(keys, version),
            None,
            writes=keys,
            version=version,
        )

    def incr(self, key, delta=1, version=None):
        result = self._call(
            lambda: super(ResilientRedisCache, self).incr(key, delta, version),
            _MISSING,
            writes=[key],
            version=version,
        )
        if result is _MISSING:
            raise ValueError(f"Key '{key}' not found (the cache is unreachable)")
        return result
