"""The Redis cache, failing open: when Redis does not answer, a read is a miss and a write
is skipped (logged), so requests keep being served through a Redis outage. What the cache
holds can all be rebuilt: API tokens' users are read from the database again, and the
throttles and login delays, which count in it, do not count while it is away."""

from __future__ import annotations

import logging
from typing import Any

from django.core.cache.backends.redis import RedisCache
from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import TimeoutError as RedisTimeoutError

log = logging.getLogger(__name__)
DOWN = (RedisConnectionError, RedisTimeoutError)


def _failing_open(name: str, fallback: Any) -> Any:
    def method(self: RedisCache, *args: Any, **kwargs: Any) -> Any:
        try:
            return getattr(super(ResilientRedisCache, self), name)(*args, **kwargs)
        except DOWN as exc:
            log.warning("cache %s skipped: Redis is not answering (%s)", name, exc)
            return fallback(*args, **kwargs) if callable(fallback) else fallback
    method.__name__ = name
    return method


class ResilientRedisCache(RedisCache):
    get = _failing_open("get", lambda key, default=None, version=None: default)
    get_many = _failing_open("get_many", {})
    set = _failing_open("set", None)
    set_many = _failing_open("set_many", [])
    add = _failing_open("add", False)
    delete = _failing_open("delete", False)
    delete_many = _failing_open("delete_many", None)
    incr = _failing_open("incr", lambda key, delta=1, version=None: delta)
    touch = _failing_open("touch", False)
    has_key = _failing_open("has_key", False)
    clear = _failing_open("clear", None)
