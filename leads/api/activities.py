"""`/api/v1/activities/`: behaviours and touches, recorded through the ingest pipeline."""

from __future__ import annotations

from typing import Any

from django.db.models import QuerySet
from drf_spectacular.utils import OpenApiResponse, PolymorphicProxySerializer, extend_schema
from rest_framework import mixins, serializers, status, viewsets
from rest_framework.exceptions import NotFound
from rest_framework.request import Request
from rest_framework.response import Response

from leads import people, services
from leads.models import Activity, Contact, Lead, can_read
from sdrcrm.api.idempotency import idempotent
from sdrcrm.models import Role, User

from . import listing
from .serializers import ActivityInput, ActivitySerializer, input_validator


class ActivityReceiptSerializer(serializers.Serializer):
    """An activity an integration recorded by email for a person it may not read."""

    id = serializers.IntegerField()
    result = serializers.ChoiceField(choices=["accepted"])


ACTIVITY_RECORDED = PolymorphicProxySerializer(
    component_name="ActivityRecorded", serializers=[ActivitySerializer, ActivityReceiptSerializer],
    resource_type_field_name=None)


class ActivityViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet):
    """Behaviours and touches. `POST` takes `lead`, `contact` or `email` plus the type."""

    serializer_class = ActivitySerializer
    ordering_fields = ["occurred_at", "created_at"]
    ordering = "-occurred_at"
    filterset_fields = ["lead", "contact", "type"]

    def get_queryset(self) -> QuerySet:
        return Activity.objects.visible_to(self.request.user)

    @extend_schema(request=ActivityInput, responses={201: ACTIVITY_RECORDED, 200: ACTIVITY_RECORDED,
                                                     404: OpenApiResponse()})
    @idempotent
    def create(self, request: Request) -> Response:
        data = input_validator(ActivityInput, request).run_validation(request.data)
        person, activity = services.record_activity_found(
            lambda: self._find_person(request.user, data, lock=True),  # read locked, in the transaction
            data["type"],
            occurred_at=data.get("occurred_at"),
            details=data["details"],
            source_system=data["source_system"],
            external_id=data["external_id"],
            by=request.user,
        )
        code = status.HTTP_200_OK if activity.resent else status.HTTP_201_CREATED
        if not can_read(person, request.user):
            # Marketing's by-email ingest: accepted, and nothing said about the person.
            return Response({"id": activity.pk, "result": "accepted"}, status=code)
        # ActivitySerializer's representation, built as the lead list's rows are (leads/listing.py).
        return Response(listing.render_activity(activity), status=code)

    @staticmethod
    def _find_person(user: User, data: dict[str, Any], lock: bool = False) -> Lead | Contact:
        # Integrations push marketing behaviour by email for people other systems created:
        # they may attach it to anyone they can name by email, and learn nothing about them.
        # By id, everyone names only what they may read.
        if data.get("email"):
            person = people.find_person_by_email(data["email"], None if user.role == Role.INTEGRATION else user,
                                                 lock=lock)
            if person is None:
                raise NotFound(f"No lead or contact has the email {data['email']}.")
            return person
        return find_person_by_id(user, data, lock=lock)


def find_person_by_id(user: User, data: dict[str, Any], lock: bool = False) -> Lead | Contact:
    """The lead (`data["lead"]`) or contact (`data["contact"]`) the user may read, else
    404; `lock`: its row locked to the end of the transaction."""
    model: type[Lead] | type[Contact] = Lead if data.get("lead") else Contact
    pk = data.get("lead") or data.get("contact")
    person = people.locking(model.objects.visible_to(user), lock).filter(pk=pk).first()
    if person is None:
        raise NotFound(f"No {model._meta.verbose_name} with id {pk}.")
    return person
