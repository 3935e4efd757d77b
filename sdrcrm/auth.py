"""Login protection that cannot be turned against users (the login form and the API's
token endpoint both go through it).

- **A growing delay per (username, client address).** After LOGIN_FREE_FAILURES wrong
  passwords from one address for one username, each further try from there must wait
  a delay that doubles with every failure (1 s, 2 s, 4 s … up to LOGIN_MAX_DELAY_SECONDS);
  a success clears it. Another address is never slowed, so nobody can lock a colleague
  out by typing wrong passwords for them.
- **Throttles per address and per username** (LOGIN_ADDRESS_RATE, LOGIN_USERNAME_RATE),
  counted on every try, so spraying many usernames from one address, or one username
  from many addresses, stays slow.
- **The same work on every failure.** An unknown username, a wrong password and a try
  refused for its delay all cost one password hash, so how long the answer takes says
  nothing about which usernames exist.

The counters live in the cache (Redis, or the embedded default's file cache), shared by
every process. The client address is REMOTE_ADDR: behind a proxy, have the proxy set it.
"""

from __future__ import annotations

import hashlib
import time
from typing import Any

from django.conf import settings
from django.contrib.auth.backends import ModelBackend
from django.core.cache import cache
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest

from .models import User
from .throttling import hit

DELAY_KEPT_SECONDS = 24 * 3600  # how long a pair's failures are remembered after the last one


def client_address(request: HttpRequest | None) -> str:
    return (request.META.get("REMOTE_ADDR") or "unknown") if request is not None else "unknown"


def _pair_key(username: str, address: str) -> str:
    # A digest: the cache holds no usernames.
    return "login-failures:" + hashlib.sha256(f"{username.lower()}\0{address}".encode()).hexdigest()


def delay_after(failures: int) -> int:
    """Seconds a pair must wait before its next try, after `failures` failures in a row."""
    over = failures - settings.LOGIN_FREE_FAILURES
    return 0 if over < 0 else min(2**over, settings.LOGIN_MAX_DELAY_SECONDS)


def retry_after(username: str, request: HttpRequest | None) -> int:
    """Seconds before this username may be tried again from this address (0: now), from
    the throttles and the pair's delay; counts this try against the throttles."""
    address = client_address(request)
    waits = [hit(f"login-address:{address}", settings.LOGIN_ADDRESS_RATE),
             hit("login-username:" + hashlib.sha256(username.lower().encode()).hexdigest(),
                 settings.LOGIN_USERNAME_RATE)]
    failures, last = cache.get(_pair_key(username, address)) or (0, 0.0)
    waits.append(last + delay_after(failures) - time.time())
    return max(0, int(max(wait or 0 for wait in waits) + 0.999))


def record_failure(username: str, request: HttpRequest | None) -> None:
    key = _pair_key(username, client_address(request))
    failures, _ = cache.get(key) or (0, 0.0)
    cache.set(key, (failures + 1, time.time()), DELAY_KEPT_SECONDS)


def clear_failures(username: str, request: HttpRequest | None) -> None:
    cache.delete(_pair_key(username, client_address(request)))


class LoginDelayed(PermissionDenied):
    """Refused before the password was looked at: the client must wait `seconds`."""

    def __init__(self, seconds: int) -> None:
        super().__init__(f"Too many tries; try again in {seconds} second{'' if seconds == 1 else 's'}.")
        self.seconds = seconds


class DelayedLoginBackend(ModelBackend):
    def authenticate(self, request: HttpRequest | None, username: str | None = None,
                     password: str | None = None, **kwargs: Any) -> User | None:
        if username is None:
            username = kwargs.get(User.USERNAME_FIELD)
        if username is None or password is None:
            return None
        wait = retry_after(username, request)
        if wait:
            User().set_password(password)  # the same work as a real check
            if request is not None:
                request.login_retry_after = wait  # type: ignore[attr-defined]
            raise LoginDelayed(wait)  # authenticate() answers None, as for a wrong password
        user = super().authenticate(request, username=username, password=password, **kwargs)
        if user is None:
            record_failure(username, request)  # ModelBackend hashed for an unknown user too
        else:
            clear_failures(username, request)
        return user
