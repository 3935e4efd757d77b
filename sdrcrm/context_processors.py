"""Template context every page gets."""

from __future__ import annotations

from django.http import HttpRequest
from django.utils.functional import SimpleLazyObject

from .notifications import unread_count


def unread_notifications(request: HttpRequest) -> dict[str, object]:
    """`unread_notifications`: the nav's unread count. Lazy, so a page that does not show
    it (or an anonymous visitor) costs no query; one bounded COUNT when it is shown."""
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return {}
    return {"unread_notifications": SimpleLazyObject(lambda: unread_count(user))}
