"""API token authentication: django-rest-knox's tokens (hashed, one per client, expiring),
with the token's user kept in the cache.

Knox reads the token and its user, and every other token of that user, from the database
on every request; at integration rates (two requests per lead) that is a large share of
an ingest request. The user is cached (Redis, or the embedded default's file cache) for
API_TOKEN_CACHE_SECONDS under the token's hash, and dropped as soon as the token or its
user is saved or deleted, so a revoked token or a deactivated user is refused on the next
request in every process. Saving a new password, or deactivating a user, revokes all of
their tokens.

A request with a token that is not valid counts against the client address's anonymous
rate (API_ANON_THROTTLE_RATE), so tokens cannot be guessed at the speed of the server."""

from __future__ import annotations

import copy
from datetime import datetime
from typing import Any

from django.conf import settings
from django.core.cache import cache
from django.db.models.signals import post_delete, post_save
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from knox.auth import TokenAuthentication
from knox.crypto import hash_token
from knox.settings import CONSTANTS
from rest_framework import HTTP_HEADER_ENCODING, exceptions
from rest_framework.request import Request

from .auth import client_address
from .models import ApiToken, User
from .throttling import Counted, hit, read_and_count, stored_value, user_rate


def cache_key(digest: str) -> str:
    # The token's hash, so the cache never holds a usable token.
    return "api-token:" + digest


# Token hash → (user id, role) as this process last found them: a token's user never
# changes, so the request's throttle counter is known before the user is read, and both
# go to Redis in one round trip (throttling.read_and_count). After a change of role to
# one of another rate period, the throttle finds the request counted elsewhere and
# counts it in its own window.
_token_users: dict[str, tuple[int, str]] = {}
MAX_TOKEN_USERS = 10_000

# Token hash → (the cache's bytes, the (user, expiry) they were decoded to) as this
# process last decoded them: unpickling the user took 14 µs a request (timeit). Bytes
# that differ (the user saved and cached again) are decoded again.
_decoded: dict[str, tuple[bytes, tuple[User, datetime | None]]] = {}


def decoded(digest: str, stored: bytes) -> tuple[User, datetime | None]:
    """The (user, expiry) of a token's cache entry read as stored: the user a copy of its
    own for the request, as an unpickled one is (copy.copy: less than half the time of
    pickle.loads)."""
    seen = _decoded.get(digest)
    if seen is None or seen[0] != stored:
        if len(_decoded) >= MAX_TOKEN_USERS:
            _decoded.clear()
        seen = _decoded[digest] = (stored, stored_value(stored))
    user, expiry = seen[1]
    return copy.copy(user), expiry


class CachedTokenAuthentication(TokenAuthentication):
    # The request as counted for its throttle with the token's read, for
    # FixedWindowUserThrottle; None when it was not.
    counted: Counted | None = None

    def authenticate(self, request: Request) -> tuple[User, ApiToken] | None:
        try:
            found = self.knox_authenticate(request)
        except exceptions.AuthenticationFailed:
            wait = hit(f"bad-token:{client_address(request)}", settings.API_ANON_THROTTLE_RATE)
            if wait is not None:
                raise exceptions.Throttled(wait) from None
            raise
        if found is not None and self.counted is not None:
            request.throttle_counted = self.counted
        return found

    def knox_authenticate(self, request: Request) -> tuple[User, ApiToken] | None:
        """knox's TokenAuthentication.authenticate, the header read from META: DRF's
        get_authorization_header, which knox calls, reads request.headers, and that builds
        a dict of every header of the request for this one read."""
        auth = request.META.get("HTTP_AUTHORIZATION", b"")
        if isinstance(auth, str):
            auth = auth.encode(HTTP_HEADER_ENCODING)
        auth = auth.split()
        prefix = self.authenticate_header(request).encode()
        if not auth or auth[0].lower() != prefix.lower():
            return None  # no token, or the header is for another scheme
        if len(auth) == 1:
            raise exceptions.AuthenticationFailed(_("Invalid token header. No credentials provided."))
        if len(auth) > 2:
            raise exceptions.AuthenticationFailed(_("Invalid token header. Token string should not contain spaces."))
        return self.authenticate_credentials(auth[1])

    def authenticate_credentials(self, token: bytes) -> tuple[User, ApiToken]:
        key = token.decode("utf-8", "replace")
        digest = hash_token(key)
        seconds = settings.API_TOKEN_CACHE_SECONDS
        known = _token_users.get(digest) if seconds else None
        both = read_and_count(cache_key(digest), *user_rate(*known)) if known is not None else None
        if both is not None:
            cached: tuple[User, datetime | None] | None
            stored, self.counted = both
            cached = None if stored is None else decoded(digest, stored)
        else:
            cached = cache.get(cache_key(digest)) if seconds else None
        if cached is None:
            found = (ApiToken.objects.filter(digest=digest, token_key=key[:CONSTANTS.TOKEN_KEY_LENGTH])
                     .select_related("user").defer("user__password").first())
            if found is None:
                raise exceptions.AuthenticationFailed("Invalid token.")
            # Without the password hash: the cache need not hold it, and code that reads
            # it gets it from the database.
            cached = (found.user, found.expiry)
            if seconds:
                cache.set(cache_key(digest), cached, seconds)
        user, expiry = cached
        if expiry is not None and expiry <= timezone.now():
            ApiToken.objects.filter(digest=digest).delete()
            raise exceptions.AuthenticationFailed("This token has expired; get a new one at auth/token/.")
        if not user.is_active:
            raise exceptions.AuthenticationFailed("User inactive or deleted.")
        if len(_token_users) >= MAX_TOKEN_USERS:
            _token_users.clear()
        _token_users[digest] = (user.pk, user.role)
        # request.auth: the token as knox gives it (its digest identifies it; not saved).
        return user, ApiToken(digest=digest, token_key=key[:CONSTANTS.TOKEN_KEY_LENGTH], user=user, expiry=expiry)


def forget_token(sender: Any, instance: ApiToken, **kwargs: Any) -> None:
    cache.delete(cache_key(instance.digest))


def forget_users_tokens(sender: Any, instance: User, created: bool = False, **kwargs: Any) -> None:
    """Any change to a user drops their cached tokens; a new password or a deactivation
    revokes them."""
    tokens = ApiToken.objects.filter(user_id=instance.pk)
    cache.delete_many([cache_key(digest) for digest in tokens.values_list("digest", flat=True)])
    if getattr(instance, "_password_changed", False) or not instance.is_active:
        instance._password_changed = False
        tokens.delete()


post_save.connect(forget_token, sender=ApiToken, dispatch_uid="api-token-cache-token-save")
post_delete.connect(forget_token, sender=ApiToken, dispatch_uid="api-token-cache-token-delete")
post_save.connect(forget_users_tokens, sender=User, dispatch_uid="api-token-cache-user-save")
post_delete.connect(forget_users_tokens, sender=User, dispatch_uid="api-token-cache-user-delete")
