"""The time zone the pages show and read times in: the user's region's (routing.sla's
calendar, the zone whose midnight ends their Today and whose business hours their SLA
counts), set for each page by sdrcrm.middleware.LocalTimeMiddleware. The API and the
services stay in UTC, or name their zone themselves."""

from __future__ import annotations

from datetime import datetime, tzinfo

from django.utils import timezone
from django.utils.functional import lazy

from routing import sla

from .models import User


def zone_of(user: User) -> tzinfo:
    return sla.calendar_for(user.region).zone


def shown(value: datetime) -> str:
    """A time as a page's message says it: in the page's zone, named ("2026-12-08 10:00 EST")."""
    return f"{timezone.localtime(value):%Y-%m-%d %H:%M %Z}"


def _named(label: str) -> str:
    return f"{label} ({timezone.localtime():%Z})"


# A form field's label naming the zone its time is typed in ("Due (EST)"), worked out
# when the page is drawn.
named = lazy(_named, str)
