"""The SDR lead views of SPEC §8, as queryset filters shared by the API and the pages."""

from __future__ import annotations

from collections.abc import Callable

from django.db.models import F, Q, QuerySet

from sdrcrm.errors import Refused
from sdrcrm.models import User

from .models import Status

WORKING = (Status.INQUIRY, Status.MQL, Status.ACCEPTED, Status.QUALIFYING)

LEAD_VIEWS: dict[str, tuple[str, Callable[[QuerySet], QuerySet]]] = {
    "my_mqls": ("My MQLs (S1)", lambda qs: qs.filter(status=Status.MQL)),
    "high_priority": ("S1 High Priority", lambda qs: qs.filter(status=Status.MQL, high_priority=True)),
    "my_inquiries": ("My Inquiries", lambda qs: qs.filter(status=Status.INQUIRY)),
    "callable": ("Callable (S2)", lambda qs: qs.filter(status__in=WORKING).exclude(phone="")),
    "my_qualifying": ("My Qualifying (S3)", lambda qs: qs.filter(status=Status.QUALIFYING)),
    "new_lim": (
        "New LIM",
        lambda qs: qs.filter(
            status__in=(Status.MQL, Status.RECYCLE, Status.RAW),
            last_interesting_moment_at__gt=F("status_changed_at"),
        ),
    ),
}
CONTACT_VIEWS: dict[str, tuple[str, Callable[[QuerySet], QuerySet]]] = {
    "my_mql_contacts": ("My MQL contacts", lambda qs: qs.filter(status=Status.MQL)),
    "my_qualifying_contacts": ("My Qualifying contacts", lambda qs: qs.filter(status=Status.QUALIFYING)),
}


def apply_view(queryset: QuerySet, key: str, user: User, owner: User | None = None,
               team_id: int | None = None, views: dict | None = None) -> QuerySet:
    """Filter to a named view. SDRs always see their own records; managers and ops may
    pick one SDR (`owner`) or a team, and otherwise see the view over what they see."""
    views = views if views is not None else LEAD_VIEWS
    if key not in views:
        raise Refused(f"Unknown view '{key}'; one of: {', '.join(views)}.", field="view")
    queryset = views[key][1](queryset)
    if user.is_prospector or not (user.is_manager or user.is_ops):
        return queryset.filter(owner=user)
    if owner is not None:
        return queryset.filter(owner=owner)
    if team_id is not None:
        return queryset.filter(owner__team=team_id)
    return queryset.filter(~Q(owner=None))
