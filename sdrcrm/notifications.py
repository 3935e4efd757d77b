"""A person's notifications (the alerts jobs and routing write with routing.services.notify):
reading them, marking them read, and the API under /api/v1/notifications/. Everyone sees
their own only; anyone else's is simply not found. Channels (the lost-deals channel of
SPEC §7) are shared feeds that managers and ops read."""

from __future__ import annotations

from datetime import datetime

from django.db.models import QuerySet
from django.utils import timezone
from drf_spectacular.utils import OpenApiParameter, extend_schema, inline_serializer
from rest_framework import mixins, serializers, viewsets
from rest_framework.decorators import action
from rest_framework.exceptions import ValidationError
from rest_framework.request import Request
from rest_framework.response import Response

from .models import Notification, User

# The nav shows "99+" beyond this: counting further costs more and tells nobody anything.
UNREAD_COUNT_CAP = 100


CHANNELS = {"lost-deals": "Lost deals"}


def inbox(user: User) -> QuerySet[Notification]:
    return Notification.objects.filter(user=user)


def may_read_channels(user: User) -> bool:
    return user.is_manager or user.is_ops


def channel_feed(user: User, channel: str) -> QuerySet[Notification]:
    """A channel's notifications; managers and ops read them, nobody else."""
    if channel not in CHANNELS:
        raise ValidationError({"channel": [f"Unknown channel; one of: {', '.join(CHANNELS)}."]})
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


class NotificationSerializer(serializers.ModelSerializer):
    class Meta:
        model = Notification
        fields = ["id", "kind", "channel", "message", "lead", "opportunity", "created_at", "read_at"]
        read_only_fields = fields


class NotificationViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet):
    """Your notifications, newest first; `?unread=true` for the unread ones only;
    `?channel=lost-deals` for a channel (managers and ops)."""

    serializer_class = NotificationSerializer
    ordering_fields = ["created_at"]
    ordering = "-created_at"

    def get_queryset(self) -> QuerySet[Notification]:
        if getattr(self, "swagger_fake_view", False):
            return Notification.objects.none()
        channel = self.request.query_params.get("channel")
        if channel is not None and self.action == "list":
            return channel_feed(self.request.user, channel)
        notifications = inbox(self.request.user)
        unread = self.request.query_params.get("unread", "").lower()
        if unread in ("true", "1", "yes"):
            notifications = notifications.filter(read_at__isnull=True)
        elif unread in ("false", "0", "no"):
            notifications = notifications.filter(read_at__isnull=False)
        elif unread:
            raise ValidationError({"unread": ["Give true or false."]})
        return notifications

    @extend_schema(parameters=[
        OpenApiParameter("unread", bool, description="true: unread only; false: read only"),
        OpenApiParameter("channel", str, enum=list(CHANNELS), description="a channel's feed (managers and ops)"),
    ])
    def list(self, request: Request, *args: object, **kwargs: object) -> Response:
        return super().list(request, *args, **kwargs)

    @extend_schema(request=None, responses=NotificationSerializer)
    @action(detail=True, methods=["post"])
    def read(self, request: Request, pk: str | None = None) -> Response:
        return Response(NotificationSerializer(mark_read(self.get_object())).data)

    @extend_schema(request=None, responses=inline_serializer("ReadAll", {"marked": serializers.IntegerField()}))
    @action(detail=False, methods=["post"], url_path="read-all")
    def read_all(self, request: Request) -> Response:
        return Response({"marked": mark_all_read(request.user)})
