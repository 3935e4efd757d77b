"""Notifications: `send()` is the one writer (routing, the jobs and the opportunity rules
all alert through it, with a kind from Notification.Kind), and reading them: a person's
inbox, marking read, and channels (the lost-deals channel of docs/rules.md §4), shared feeds that
managers and ops read. Everyone sees their own only; anyone else's is simply not found."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from django.db.models import QuerySet
from django.utils import timezone

from .errors import Refused
from .models import Notification, Role, User

# The nav shows "99+" beyond this: counting further costs more and tells nobody anything.
UNREAD_COUNT_CAP = 100


CHANNELS = {"lost-deals": "Lost deals"}


@dataclass(frozen=True)
class Alert:
    """One notification to write: to a user, or on a channel."""

    kind: str
    message: str
    user_id: int | None = None
    channel: str = ""
    lead_id: int | None = None
    opportunity_id: int | None = None


def send(alerts: Iterable[Alert]) -> list[Notification]:
    """Write the alerts in one insert. A kind outside Notification.Kind raises ValueError:
    the kinds are a closed list, which the inbox and its readers rely on."""
    return Notification.objects.bulk_create([
        Notification(user_id=alert.user_id, channel=alert.channel, kind=Notification.Kind(alert.kind),
                     message=alert.message, lead_id=alert.lead_id, opportunity_id=alert.opportunity_id)
        for alert in alerts
    ])


def notify(users: Iterable[int | None], kind: str, message: str, *, lead: Any = None,
           opportunity: Any = None) -> list[Notification]:
    """`message` to each of `users` once (blank ids skipped)."""
    lead_id = lead.pk if lead is not None else None
    opportunity_id = opportunity.pk if opportunity is not None else None
    return send(Alert(kind, message, user_id=user_id, lead_id=lead_id, opportunity_id=opportunity_id)
                for user_id in set(users) if user_id)


def notify_channel(channel: str, kind: str, message: str, *, opportunity: Any = None) -> list[Notification]:
    return send([Alert(kind, message, channel=channel, opportunity_id=opportunity.pk if opportunity else None)])


def ops_user_ids() -> list[int]:
    return list(User.objects.filter(role=Role.OPS, is_active=True).values_list("pk", flat=True))


def inbox(user: User) -> QuerySet[Notification]:
    return Notification.objects.filter(user=user)


def may_read_channels(user: User) -> bool:
    return user.is_manager or user.is_ops


def channel_feed(user: User, channel: str) -> QuerySet[Notification]:
    """A channel's notifications; managers and ops read them, nobody else."""
    if channel not in CHANNELS:
        raise Refused(f"Unknown channel; one of: {', '.join(CHANNELS)}.", field="channel")
    if not may_read_channels(user):
        return Notification.objects.none()
    return Notification.objects.filter(channel=channel)


def unread_count(user: User) -> int:
    """Unread notifications, counted up to UNREAD_COUNT_CAP (one index-only COUNT)."""
    return inbox(user).filter(read_at__isnull=True)[:UNREAD_COUNT_CAP].count()


def mark_read(notification: Notification, now: datetime | None = None) -> Notification:
    """Read stays read: the first time is kept when it is marked again."""
    now = now or timezone.now()
    if Notification.objects.filter(pk=notification.pk, read_at__isnull=True).update(read_at=now):
        notification.read_at = now
    else:
        notification.refresh_from_db(fields=["read_at"])
    return notification


def mark_all_read(user: User, now: datetime | None = None) -> int:
    return inbox(user).filter(read_at__isnull=True).update(read_at=now or timezone.now())


