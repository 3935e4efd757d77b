"""The SDR lead views of docs/rules.md §9 (My MQLs, My Inquiries, Callable, …): named work lists,
as conditions shared by the API's `view` filter, the pages and the team queues (which
count them all in one pass, leads/queues.py)."""

from __future__ import annotations

from django.db.models import F, Q, QuerySet

from sdrcrm.errors import Refused
from sdrcrm.models import User

from .models import Status

WORKING = (Status.INQUIRY, Status.MQL, Status.ACCEPTED, Status.QUALIFYING)

# key: (label, condition)
LEAD_VIEWS: dict[str, tuple[str, Q]] = {
    "my_mqls": ("My MQLs (S1)", Q(status=Status.MQL)),
    "high_priority": ("S1 High Priority", Q(status=Status.MQL, high_priority=True)),
    "my_inquiries": ("My Inquiries", Q(status=Status.INQUIRY)),
    "callable": ("Callable (S2)", Q(status__in=WORKING) & ~Q(phone="")),
    "my_qualifying": ("My Qualifying (S3)", Q(status=Status.QUALIFYING)),
    "new_lim": ("New LIM", Q(status__in=(Status.MQL, Status.RECYCLE, Status.RAW),
                             last_interesting_moment_at__gt=F("status_changed_at"))),
}
CONTACT_VIEWS: dict[str, tuple[str, Q]] = {
    "my_mql_contacts": ("My MQL contacts", Q(status=Status.MQL)),
    "my_qualifying_contacts": ("My Qualifying contacts", Q(status=Status.QUALIFYING)),
}


def apply_view(queryset: QuerySet, key: str, user: User, owner: User | None = None,
               team_id: int | None = None, views: dict | None = None) -> QuerySet:
    """Filter to a named view. SDRs always see their own records; managers and ops may
    pick one SDR (`owner`) or a team, and otherwise see the view over what they see."""
    views = views if views is not None else LEAD_VIEWS
    if key not in views:
        raise Refused(f"Unknown view '{key}'; one of: {', '.join(views)}.", field="view")
    queryset = queryset.filter(views[key][1])
    if user.is_prospector or not (user.is_manager or user.is_ops):
        return queryset.filter(owner=user)
    if owner is not None:
        return queryset.filter(owner=owner)
    if team_id is not None:
        return queryset.filter(owner__team=team_id)
    return queryset.filter(~Q(owner=None))
