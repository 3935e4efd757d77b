"""API token authentication with the token's user kept in the cache.

DRF's TokenAuthentication reads the token and its user from the database on every
request; at integration rates (two requests per lead) that was a tenth of an ingest
request's CPU. The pair is cached (Redis in production) for API_TOKEN_CACHE_SECONDS
and dropped as soon as the token or its user is saved or deleted, so a revoked token
or a deactivated user is refused on the next request. Only a change written around
the ORM (a raw UPDATE) waits for the cache time to pass."""

from __future__ import annotations

import hashlib
from typing import Any

from django.conf import settings
from django.core.cache import cache
from django.db.models.signals import post_delete, post_save
from rest_framework import exceptions
from rest_framework.authentication import TokenAuthentication
from rest_framework.authtoken.models import Token

from .models import User


def cache_key(token_key: str) -> str:
    # A digest, so the cache never holds a usable token.
    return "api-token:" + hashlib.sha256(token_key.encode()).hexdigest()


class CachedTokenAuthentication(TokenAuthentication):
    def authenticate_credentials(self, key: str) -> tuple[User, Token]:
        seconds = settings.API_TOKEN_CACHE_SECONDS
        user = cache.get(cache_key(key)) if seconds else None
        if user is None:
            try:
                # Without the password hash: the cache need not hold it, and code that
                # reads it gets it from the database.
                user = User.objects.defer("password").get(auth_token__key=key)
            except User.DoesNotExist:
                raise exceptions.AuthenticationFailed("Invalid token.") from None
            if seconds:
                cache.set(cache_key(key), user, seconds)
        if not user.is_active:
            raise exceptions.AuthenticationFailed("User inactive or deleted.")
        return user, Token(key=key, user=user)  # request.auth, as DRF's own class sets it


def forget_token(sender: Any, instance: Token, **kwargs: Any) -> None:
    cache.delete(cache_key(instance.key))


def forget_users_token(sender: Any, instance: User, **kwargs: Any) -> None:
    for key in Token.objects.filter(user_id=instance.pk).values_list("key", flat=True):
        cache.delete(cache_key(key))


post_save.connect(forget_token, sender=Token, dispatch_uid="api-token-cache-token-save")
post_delete.connect(forget_token, sender=Token, dispatch_uid="api-token-cache-token-delete")
post_save.connect(forget_users_token, sender=User, dispatch_uid="api-token-cache-user-save")
post_delete.connect(forget_users_token, sender=User, dispatch_uid="api-token-cache-user-delete")
