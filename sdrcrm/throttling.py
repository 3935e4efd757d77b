"""Per-user API throttle with one counter per time window.

DRF's rate throttles keep every request time of the window in the cache and rewrite the
list on each request; at integration rates (hundreds a second) that list costs more than
the request. A fixed window needs one atomic increment. Integrations get their own rate,
since pushing leads is their job."""

from __future__ import annotations

import os
import threading
import time
from dataclasses import dataclass
from typing import Any

from django.conf import settings
from django.core.cache import cache, caches
from django.core.cache.backends.redis import RedisCache
from redis import ConnectionPool
from redis.connection import AbstractConnection
from rest_framework.request import Request
from rest_framework.throttling import BaseThrottle

from .cache import DOWN as REDIS_DOWN

PERIODS = {"s": 1, "m": 60, "h": 3600, "d": 86400}


def parse_rate(rate: str) -> tuple[int, int]:
    """'600/minute' → (600, 60)."""
    count, period = rate.split("/")
    return int(count), PERIODS[period.strip()[0]]


def user_rate(user_id: int, role: str) -> tuple[str, str]:
    """(ident, rate) of a signed-in user's requests."""
    rate = settings.API_INTEGRATION_THROTTLE_RATE if role == "integration" else settings.API_THROTTLE_RATE
    return f"user:{user_id}", rate


@dataclass(frozen=True)
class Counted:
    """One request counted in a window's counter: the counter's key, what it held after
    the count, and the time of the count."""

    key: str
    count: int
    at: float


class FixedWindowUserThrottle(BaseThrottle):
    def allow_request(self, request: Request, view: Any) -> bool:
        user = request.user
        if user and user.is_authenticated:
            ident, rate = user_rate(user.pk, user.role)
        else:
            ident, rate = f"anon:{self.get_ident(request)}", settings.API_ANON_THROTTLE_RATE
        # Counted already when the token's user was read (read_and_count), if in this counter.
        counted: Counted | None = getattr(request, "throttle_counted", None)
        limit, period = parse_rate(rate)
        if counted is not None and counted.key == window_key(ident, period, counted.at):
            self.retry_after = verdict(counted, limit, period)
        else:
            self.retry_after = hit(ident, rate)
        return self.retry_after is None

    def wait(self) -> float | None:
        return self.retry_after


def window_key(ident: str, period: int, at: float) -> str:
    return f"throttle:{ident}:{int(at // period)}"


def verdict(counted: Counted, limit: int, period: int) -> float | None:
    """None while the window's count is within `limit`, else the seconds until it ends."""
    return None if counted.count <= limit else period - (counted.at % period)


def hit(ident: str, rate: str) -> float | None:
    """Count one request of `ident` against `rate` ('30/minute'): None while within it,
    else the seconds until the window ends."""
    limit, period = parse_rate(rate)
    now = time.time()
    key = window_key(ident, period, now)
    return verdict(Counted(key, count_request(key, timeout=period + 1), now), limit, period)


def read_and_count(read: str, ident: str, rate: str) -> tuple[bytes | None, Counted] | None:
    """What `cache.get(read)` reads, as stored (`stored_value` decodes it), and one request
    of `ident` counted in its window of `rate`, in one round trip to Redis: an API request
    reads its token's user and counts itself against its throttle, and two round trips
    were a tenth of an ingest request. None when the cache is not Redis or Redis does not
    answer: then read and count apart."""
    backend = caches["default"]
    if not isinstance(backend, RedisCache):
        return None
    period = parse_rate(rate)[1]
    now = time.time()
    key = window_key(ident, period, now)
    # make_key: both keys are this module's and the caller's own, of letters, digits and
    # colons, so the memcached key check (a Python loop over every character) is left out.
    read_key, count_key = backend.make_key(read), backend.make_key(key)
    # The three commands sent by hand: redis-py's pipeline (its objects, wrappers, retries
    # and reply callbacks) cost 1.4 % of an ingested lead's instructions more (callgrind),
    # and a client and a connection taken from the pool and given back 1 % more. A failed
    # exchange drops its connection, as the pipeline's would, so no half-read answer is
    # left for the next request.
    conn = _own_connection(backend._cache._get_connection_pool(write=True))
    try:
        conn.send_packed_command([packed(("GET", read_key), ("INCR", count_key), ("EXPIRE", count_key, period + 1))])
        value, count, _ = conn.read_response(), conn.read_response(), conn.read_response()
    except REDIS_DOWN:
        conn.disconnect()
        return None
    return value, Counted(key, count, now)


def stored_value(value: bytes) -> Any:
    """A value read_and_count read, as `cache.get` gives it."""
    return caches["default"]._cache._serializer.loads(value)


def packed(*commands: tuple[str | int, ...]) -> bytes:
    """Redis commands in the protocol's form (RESP), the bytes redis-py's pack_commands
    gives for short text and numbers; written here because its packer, general over
    values and sizes, was 1 % of an ingested lead's instructions."""
    out = []
    for command in commands:
        out.append(b"*%d\r\n" % len(command))
        for arg in command:
            data = str(arg).encode()
            out.append(b"$%d\r\n%b\r\n" % (len(data), data))
    return b"".join(out)


_own = threading.local()


def _own_connection(pool: ConnectionPool) -> AbstractConnection:
    """This thread's connection to the cache's Redis for read_and_count, made by `pool` but
    kept out of it (one a thread, made again in a forked process or for another pool); it
    connects when it is first used, and again after a failure dropped it."""
    if getattr(_own, "pool", None) is not pool or _own.pid != os.getpid():
        _own.conn, _own.pool, _own.pid = pool.make_connection(), pool, os.getpid()
    return _own.conn


def count_request(key: str, timeout: int) -> int:
    """Add one to the window's counter and return it. On Redis: INCR and EXPIRE in one
    round trip (a pipeline), since every API request pays for it."""
    backend = caches["default"]
    if isinstance(backend, RedisCache):
        full_key = backend.make_and_validate_key(key)
        try:
            pipe = backend._cache.get_client(full_key, write=True).pipeline(transaction=False)
            pipe.incr(full_key)
            pipe.expire(full_key, timeout)
            return pipe.execute()[0]
        except REDIS_DOWN:  # counted nowhere while Redis is away (sdrcrm/cache.py fails open too)
            return 1
    cache.add(key, 0, timeout=timeout)
    try:
        return cache.incr(key)
    except ValueError:  # the window's key expired between add and incr
        cache.add(key, 1, timeout=timeout)
        return 1
