"""Per-user API throttle with one counter per time window.

DRF's rate throttles keep every request time of the window in the cache and rewrite the
list on each request; at integration rates (hundreds a second) that list costs more than
the request. A fixed window needs one atomic increment. Integrations get their own rate,
since pushing leads is their job."""

from __future__ import annotations

import time
from typing import Any

from django.conf import settings
from django.core.cache import cache, caches
from django.core.cache.backends.redis import RedisCache
from rest_framework.request import Request
from rest_framework.throttling import BaseThrottle

from .cache import DOWN as REDIS_DOWN

PERIODS = {"s": 1, "m": 60, "h": 3600, "d": 86400}


def parse_rate(rate: str) -> tuple[int, int]:
    """'600/minute' → (600, 60)."""
    count, period = rate.split("/")
    return int(count), PERIODS[period.strip()[0]]


class FixedWindowUserThrottle(BaseThrottle):
    def allow_request(self, request: Request, view: Any) -> bool:
        user = request.user
        if user and user.is_authenticated:
            ident = f"user:{user.pk}"
            rate = settings.API_INTEGRATION_THROTTLE_RATE if user.role == "integration" else settings.API_THROTTLE_RATE
        else:
            ident = f"anon:{self.get_ident(request)}"
            rate = settings.API_ANON_THROTTLE_RATE
        self.retry_after = hit(ident, rate)
        return self.retry_after is None

    def wait(self) -> float | None:
        return self.retry_after


def hit(ident: str, rate: str) -> float | None:
    """Count one request of `ident` against `rate` ('30/minute'): None while within it,
    else the seconds until the window ends."""
    limit, period = parse_rate(rate)
    now = time.time()
    count = count_request(f"throttle:{ident}:{int(now // period)}", timeout=period + 1)
    return None if count <= limit else period - (now % period)


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
