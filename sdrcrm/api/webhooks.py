"""`/api/v1/webhooks/`: ops register the endpoints changes are sent to (sdrcrm/webhooks.py),
see each one's latest deliveries, and send one again.

The secret is written, never read back: left out when an endpoint is made, one is made
up and answered once, in the response that made it."""

from __future__ import annotations

from typing import Any

from drf_spectacular.utils import extend_schema
from rest_framework import serializers, status, viewsets
from rest_framework.decorators import action
from rest_framework.exceptions import NotFound
from rest_framework.request import Request
from rest_framework.response import Response

from sdrcrm import webhooks
from sdrcrm.ids import MAX_ID
from sdrcrm.models import WebhookDelivery, WebhookEndpoint

from .access import IsOps

SHOWN_DELIVERIES = 50


class WebhookEndpointSerializer(serializers.ModelSerializer):
    events = serializers.MultipleChoiceField(choices=WebhookEndpoint.Event.choices, allow_empty=False)
    secret = serializers.CharField(write_only=True, required=False, min_length=16, max_length=100,
                                   help_text="Signs each delivery (X-Signature); made up when left out.")

    class Meta:
        model = WebhookEndpoint
        fields = ["id", "url", "events", "description", "active", "secret", "created_at"]
        read_only_fields = ["id", "created_at"]

    def validate_events(self, events: set[str]) -> list[str]:
        return sorted(events)

    def to_representation(self, instance: WebhookEndpoint) -> dict[str, Any]:
        data = super().to_representation(instance)
        data["events"] = sorted(instance.events)
        return data


class CreatedEndpointSerializer(WebhookEndpointSerializer):
    secret = serializers.CharField(read_only=True, allow_null=True,
                                   help_text="The secret the server made up, shown this once; null when the "
                                             "request gave its own.")


class DeliverySerializer(serializers.ModelSerializer):
    event_type = serializers.CharField(source="event.kind", read_only=True)

    class Meta:
        model = WebhookDelivery
        fields = ["id", "event", "event_type", "state", "attempts", "last_status", "last_response",
                  "last_attempt_at", "next_attempt_at", "delivered_at"]
        read_only_fields = fields


class ResendInput(serializers.Serializer):
    delivery = serializers.IntegerField(min_value=1, max_value=MAX_ID)


class WebhookEndpointViewSet(viewsets.ModelViewSet):
    """Endpoints that get lead.created, lead.status_changed, lead.assigned,
    opportunity.stage_changed and iqm.created events, signed with their secret (ops only)."""

    permission_classes = [IsOps]
    serializer_class = WebhookEndpointSerializer
    queryset = WebhookEndpoint.objects.order_by("id")

    @extend_schema(responses={201: CreatedEndpointSerializer}, tags=["webhooks"])
    def create(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        serializer = self.get_serializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        endpoint = WebhookEndpoint()
        secret = webhooks.save_endpoint(endpoint, serializer.validated_data, by=request.user)
        return Response({**WebhookEndpointSerializer(endpoint).data, "secret": secret}, status=status.HTTP_201_CREATED)

    def perform_update(self, serializer: WebhookEndpointSerializer) -> None:
        webhooks.save_endpoint(serializer.instance, serializer.validated_data)

    @extend_schema(responses=DeliverySerializer(many=True), tags=["webhooks"])
    @action(detail=True, methods=["get"])
    def deliveries(self, request: Request, pk: str | None = None) -> Response:
        """The endpoint's latest deliveries, newest first, with each one's last answer."""
        endpoint = self.get_object()
        rows = endpoint.deliveries.select_related("event").order_by("-id")[:SHOWN_DELIVERIES]
        return Response(DeliverySerializer(rows, many=True).data)

    @extend_schema(request=ResendInput, responses=DeliverySerializer, tags=["webhooks"])
    @action(detail=True, methods=["post"])
    def resend(self, request: Request, pk: str | None = None) -> Response:
        """Send one of the endpoint's deliveries again, with the same event id."""
        endpoint = self.get_object()
        params = ResendInput(data=request.data)
        params.is_valid(raise_exception=True)
        delivery = endpoint.deliveries.filter(pk=params.validated_data["delivery"]).first()
        if delivery is None:
            raise NotFound("No such delivery to this endpoint.")
        return Response(DeliverySerializer(webhooks.resend(delivery)).data)
