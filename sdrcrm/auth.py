"""Login with a per-account failure counter: after LOGIN_MAX_FAILURES wrong passwords
the account is locked for LOGIN_LOCKOUT_MINUTES, whichever client is trying."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from django.conf import settings
from django.contrib.auth.backends import ModelBackend
from django.db.models import F
from django.http import HttpRequest
from django.utils import timezone

from .models import User


class LockoutModelBackend(ModelBackend):
    def authenticate(self, request: HttpRequest | None, username: str | None = None,
                     password: str | None = None, **kwargs: Any) -> User | None:
        if username is None:
            username = kwargs.get(User.USERNAME_FIELD)
        user = User.objects.filter(username=username).first() if username else None
        if user is None:
            User().set_password(password)  # same time spent as for a real user
            return None
        now = timezone.now()
        if user.locked_until and user.locked_until > now:
            return None
        if user.check_password(password) and self.user_can_authenticate(user):
            if user.failed_logins:
                User.objects.filter(pk=user.pk).update(failed_logins=0, locked_until=None)
            return user
        record_failed_login(user, now)
        return None


def record_failed_login(user: User, now: Any) -> None:
    # One atomic UPDATE: concurrent wrong guesses cannot slip past the limit.
    User.objects.filter(pk=user.pk).update(failed_logins=F("failed_logins") + 1)
    locked = User.objects.filter(pk=user.pk, failed_logins__gte=settings.LOGIN_MAX_FAILURES).update(
        failed_logins=0, locked_until=now + timedelta(minutes=settings.LOGIN_LOCKOUT_MINUTES)
    )
    if locked:
        user.locked_until = now + timedelta(minutes=settings.LOGIN_LOCKOUT_MINUTES)
