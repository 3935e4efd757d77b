"""`/api/v1/notifications/`: your notifications, marking them read, and channels."""

from __future__ import annotations

from django.db.models import QuerySet
from drf_spectacular.utils import OpenApiParameter, extend_schema, inline_serializer
from rest_framework import mixins, serializers, viewsets
from rest_framework.decorators import action
from rest_framework.exceptions import ValidationError
from rest_framework.request import Request
from rest_framework.response import Response

from sdrcrm import notifications
from sdrcrm.errors import Refused
from sdrcrm.models import Notification


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
            try:
                return notifications.channel_feed(self.request.user, channel)
            except Refused as refused:
                raise ValidationError({"channel": [refused.message]}) from None
        mine = notifications.inbox(self.request.user)
        unread = self.request.query_params.get("unread", "").lower()
        if unread in ("true", "1", "yes"):
            mine = mine.filter(read_at__isnull=True)
        elif unread in ("false", "0", "no"):
            mine = mine.filter(read_at__isnull=False)
        elif unread:
            raise ValidationError({"unread": ["Give true or false."]})
        return mine

    @extend_schema(parameters=[
        OpenApiParameter("unread", bool, description="true: unread only; false: read only"),
        OpenApiParameter("channel", str, enum=list(notifications.CHANNELS),
                         description="a channel's feed (managers and ops)"),
    ])
    def list(self, request: Request, *args: object, **kwargs: object) -> Response:
        return super().list(request, *args, **kwargs)

    @extend_schema(request=None, responses=NotificationSerializer)
    @action(detail=True, methods=["post"])
    def read(self, request: Request, pk: str | None = None) -> Response:
        return Response(NotificationSerializer(notifications.mark_read(self.get_object())).data)

    @extend_schema(request=None, responses=inline_serializer("ReadAll", {"marked": serializers.IntegerField()}))
    @action(detail=False, methods=["post"], url_path="read-all")
    def read_all(self, request: Request) -> Response:
        return Response({"marked": notifications.mark_all_read(request.user)})
