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


# The main navigation's sections, by the route names of their pages.
SECTIONS = {"queues": "queues", "sequences": "sequences", "job-runs": "jobs", "notifications": "notifications",
            "search": "search", "today": "today", "home": "my-work",
            "sao-dashboard": "sao", "recently-deleted": "deleted"}


def nav_section(request: HttpRequest) -> dict[str, object]:
    """`nav_section`: which main-navigation link is the current page's (aria-current):
    the app's URL namespace (leads, contacts, accounts, opportunities), or the page itself
    for the sections that are one page; "" on a page of none (a 404)."""
    match = getattr(request, "resolver_match", None)
    if match is None:
        return {"nav_section": ""}
    return {"nav_section": SECTIONS.get(match.url_name or "", match.namespace or "")}
