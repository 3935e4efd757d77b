"""`/api/v1/activities/`: behaviours and touches, recorded through the ingest pipeline."""

from __future__ import annotations

from typing import Any

from django.db.models import QuerySet
from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework import mixins, status, viewsets
from rest_framework.exceptions import NotFound
from rest_framework.request import Request
from rest_framework.response import Response

from leads import people, services
from leads.models import Activity, Contact, Lead
from sdrcrm.models import Role, User

from .serializers import ActivityInput, ActivitySerializer, input_validator


class ActivityViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet):
    """Behaviours and touches. `POST` takes `lead`, `contact` or `email` plus the type."""

    serializer_class = ActivitySerializer
    ordering_fields = ["occurred_at", "created_at"]
    ordering = "-occurred_at"
    filterset_fields = ["lead", "contact", "type"]

    def get_queryset(self) -> QuerySet:
        return Activity.objects.visible_to(self.request.user)

    @extend_schema(request=ActivityInput, responses={201: ActivitySerializer, 404: OpenApiResponse()})
    def create(self, request: Request) -> Response:
        data = input_validator(ActivityInput, request).run_validation(request.data)
        person = self._find_person(request.user, data)
        activity = services.record_activity(
            person,
            data["type"],
            occurred_at=data.get("occurred_at"),
            details=data["details"],
            source_system=data["source_system"],
            by=request.user,
        )
        return Response(ActivitySerializer(activity).data, status=status.HTTP_201_CREATED)

    @staticmethod
    def _find_person(user: User, data: dict[str, Any]) -> Lead | Contact:
        # Integrations push behaviour for people other systems created; they may attach it
        # to any lead or contact they can name, but read back only their own.
        unrestricted = user.role == Role.INTEGRATION
        if data.get("email"):
            person = people.find_person_by_email(data["email"], None if unrestricted else user)
            if person is None:
                raise NotFound(f"No lead or contact has the email {data['email']}.")
            return person
        return find_person_by_id(user, data)


def find_person_by_id(user: User, data: dict[str, Any]) -> Lead | Contact:
    """The lead (`data["lead"]`) or contact (`data["contact"]`) the user may read, else
    404. Integrations may name any."""
    model: type[Lead] | type[Contact] = Lead if data.get("lead") else Contact
    pk = data.get("lead") or data.get("contact")
    scope = model.objects.all() if user.role == Role.INTEGRATION else model.objects.visible_to(user)
    person = scope.filter(pk=pk).first()
    if person is None:
        raise NotFound(f"No {model._meta.verbose_name} with id {pk}.")
    return person
