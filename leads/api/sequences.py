"""Sequences, enrolments and their events over the API (docs/rules.md §3). The rules live in
leads/sequences.py; this module scopes, validates the input's shape and answers."""

from __future__ import annotations

from types import SimpleNamespace
from typing import Any

import django_filters
from django.db.models import Count, IntegerField, OuterRef, QuerySet, Subquery
from django.db.models.functions import Coalesce
from drf_spectacular.utils import extend_schema
from rest_framework import mixins, serializers, status, viewsets
from rest_framework.decorators import action
from rest_framework.permissions import SAFE_METHODS, BasePermission
from rest_framework.request import Request
from rest_framework.response import Response

from leads import sequences
from leads.models import Contact, Enrollment, Lead, Sequence, SequenceEvent, SequenceStep, StepType
from sdrcrm.api.access import check_editable
from sdrcrm.api.idempotency import idempotent
from sdrcrm.errors import Refused
from sdrcrm.ids import MAX_ID
from sdrcrm.models import Role, User
from sdrcrm.pagination import KeysetPagination

from .activities import find_person_by_id
from .filters import id_filter

KINDS = ", ".join(SequenceEvent.Kind.values)
MAX_STEPS = 50


class SequenceStepSerializer(serializers.ModelSerializer):
    position = serializers.IntegerField(required=False, min_value=1, max_value=MAX_STEPS,
                                        help_text="1 for the first step; steps are numbered in the order given.")
    day_offset = serializers.IntegerField(min_value=0, max_value=365)
    type = serializers.ChoiceField(choices=StepType.choices)

    class Meta:
        model = SequenceStep
        fields = ["position", "day_offset", "type"]


class SequenceSerializer(serializers.ModelSerializer):
    """A sequence and its ordered steps; writing `steps` replaces them all, in one transaction."""

    steps = SequenceStepSerializer(many=True, max_length=MAX_STEPS)
    created_by = serializers.SlugRelatedField(slug_field="username", read_only=True)
    active_enrollments = serializers.IntegerField(read_only=True, default=0)

    class Meta:
        model = Sequence
        fields = ["id", "name", "touch", "description", "is_active", "steps", "active_enrollments",
                  "created_by", "created_at"]
        read_only_fields = ["created_at"]

    def create(self, validated_data: dict[str, Any]) -> Sequence:
        return sequences.create_sequence(validated_data, by=self.context["request"].user)

    def update(self, instance: Sequence, validated_data: dict[str, Any]) -> Sequence:
        return sequences.update_sequence(instance, validated_data)


class EnrollmentSerializer(serializers.ModelSerializer):
    sequence_name = serializers.CharField(source="sequence.name", read_only=True)
    step_count = serializers.IntegerField(read_only=True, help_text="How many steps the sequence has.")
    enrolled_by = serializers.SlugRelatedField(slug_field="username", read_only=True)

    class Meta:
        model = Enrollment
        fields = ["id", "sequence", "sequence_name", "lead", "contact", "state", "current_step", "step_count",
                  "finish_reason", "enrolled_by", "enrolled_at", "replied_at", "finished_at", "followed_up_at"]
        read_only_fields = fields


class EnrollmentCreatedSerializer(EnrollmentSerializer):
    warnings = serializers.ListField(child=serializers.CharField(), read_only=True,
                                     help_text="Allowed but worth a look: a high-touch person in a low-touch "
                                               "sequence.")

    class Meta(EnrollmentSerializer.Meta):
        fields = [*EnrollmentSerializer.Meta.fields, "warnings"]
        read_only_fields = fields


class EnrollmentInput(serializers.Serializer):
    sequence = serializers.IntegerField(min_value=1, max_value=MAX_ID)
    lead = serializers.IntegerField(required=False, min_value=1, max_value=MAX_ID)
    contact = serializers.IntegerField(required=False, min_value=1, max_value=MAX_ID)

    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        if (attrs.get("lead") is None) == (attrs.get("contact") is None):
            raise serializers.ValidationError({"non_field_errors": ["Give exactly one of lead or contact."]})
        return attrs


class SequenceEventInput(serializers.Serializer):
    kind = serializers.ChoiceField(
        choices=SequenceEvent.Kind.choices,
        error_messages={"invalid_choice": f"'{{input}}' is not a sequence event; one of: {KINDS}."},
    )
    step = serializers.IntegerField(required=False, allow_null=True, min_value=1, max_value=MAX_STEPS,
                                    help_text="The step's position; required for step_completed.")
    occurred_at = serializers.DateTimeField(required=False, help_text="Default: now. At most a day ahead.")
    external_id = serializers.CharField(required=False, allow_blank=True, max_length=100, default="",
                                        help_text="The sequencing tool's id: a resend with it stores nothing new.")


class SequenceEventSerializer(serializers.ModelSerializer):
    created_by = serializers.SlugRelatedField(slug_field="username", read_only=True)

    class Meta:
        model = SequenceEvent
        fields = ["id", "enrollment", "kind", "step", "occurred_at", "external_id", "created_by", "received_at",
                  "applied_at", "result"]
        read_only_fields = fields


class SequenceEventPage(serializers.Serializer):
    """One page of an enrolment's events, oldest first (keyset pagination)."""

    next = serializers.URLField(allow_null=True)
    results = SequenceEventSerializer(many=True)


class ReadOrOpsAndManagersWrite(BasePermission):
    message = "Only Sales-Dev Ops and managers may create or change sequences."

    def has_permission(self, request: Request, view: Any) -> bool:
        user = request.user
        if not (user and user.is_authenticated):
            return False
        return request.method in SAFE_METHODS or user.is_ops or user.is_manager


def active_counts() -> Coalesce:
    # A sequence nobody is in has no row to count: 0, not null.
    return Coalesce(Subquery(
        Enrollment.objects.filter(sequence=OuterRef("pk"), state=Enrollment.State.ACTIVE)
        .order_by().values("sequence").annotate(n=Count("id")).values("n"),
        output_field=IntegerField(),
    ), 0)


class SequenceViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, mixins.CreateModelMixin,
                      mixins.UpdateModelMixin, viewsets.GenericViewSet):
    """The cadences SDRs run. Everyone reads them; ops and managers create and edit them."""

    serializer_class = SequenceSerializer
    permission_classes = [ReadOrOpsAndManagersWrite]
    ordering_fields = ["name", "created_at"]
    ordering = "name"
    filterset_fields = ["touch", "is_active"]

    def get_queryset(self) -> QuerySet:
        return (Sequence.objects.select_related("created_by").prefetch_related("steps")
                .annotate(active_enrollments=active_counts()))

    def perform_create(self, serializer: Any) -> None:
        super().perform_create(serializer)
        serializer.instance = self.get_queryset().get(pk=serializer.instance.pk)

    def perform_update(self, serializer: Any) -> None:
        super().perform_update(serializer)
        serializer.instance = self.get_queryset().get(pk=serializer.instance.pk)


class EnrollmentFilter(django_filters.FilterSet):
    lead = id_filter(field_name="lead_id")
    contact = id_filter(field_name="contact_id")
    sequence = id_filter(field_name="sequence_id")
    state = django_filters.ChoiceFilter(choices=Enrollment.State.choices)

    class Meta:
        model = Enrollment
        fields = ["lead", "contact", "sequence", "state"]



def step_counts() -> Subquery:
    return Subquery(
        SequenceStep.objects.filter(sequence=OuterRef("sequence_id")).order_by().values("sequence")
        .annotate(n=Count("id")).values("n"),
        output_field=IntegerField(),
    )


class EnrollmentViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet):
    """A lead or contact in a sequence. `POST` enrols (answers `warnings`); events come in
    at `{id}/events/` and are applied by a worker."""

    serializer_class = EnrollmentSerializer
    filterset_class = EnrollmentFilter
    ordering_fields = ["enrolled_at"]
    ordering = "-enrolled_at"

    def get_queryset(self) -> QuerySet:
        if getattr(self, "swagger_fake_view", False):
            return Enrollment.objects.none()
        return (Enrollment.objects.visible_to(self.request.user).select_related("sequence", "enrolled_by")
                .annotate(step_count=step_counts()))

    def get_object(self) -> Enrollment:
        # An enrolment one may not see is not found, for the sequencing tool too: it sees
        # the people it created and the enrolments it made, and reports their events.
        user = self.request.user
        enrollment = super().get_object()
        reporting = self.action == "events" and user.role == Role.INTEGRATION
        if self.request.method not in SAFE_METHODS and not reporting:
            check_editable(enrollment.person, user)
        return enrollment

    @extend_schema(request=EnrollmentInput, responses={201: EnrollmentCreatedSerializer})
    def create(self, request: Request) -> Response:
        data = EnrollmentInput(data=request.data)
        data.is_valid(raise_exception=True)
        person = find_person(request.user, data.validated_data)
        sequence = Sequence.objects.filter(pk=data.validated_data["sequence"]).first()
        if sequence is None:
            raise Refused(f"No sequence with id {data.validated_data['sequence']}.", field="sequence")
        enrollment, warnings = sequences.enroll(person, sequence, by=request.user)
        enrollment = Enrollment.objects.select_related("sequence", "enrolled_by").annotate(
            step_count=step_counts()).get(pk=enrollment.pk)
        enrollment.warnings = warnings
        return Response(EnrollmentCreatedSerializer(enrollment).data, status=status.HTTP_201_CREATED)

    @extend_schema(methods=["GET"], responses=SequenceEventPage)
    @extend_schema(methods=["POST"], request=SequenceEventInput, responses={202: SequenceEventSerializer})
    @idempotent
    @action(detail=True, methods=["get", "post"])
    def events(self, request: Request, pk: str | None = None) -> Response:
        """`POST` stores an event (202) and a worker applies it; a resend with the same
        `external_id` answers the stored event. A finished enrolment takes only a reply
        (replies arrive late) or an event that happened before it finished."""
        enrollment = self.get_object()
        if request.method == "GET":
            keyset = SimpleNamespace(ordering_fields=["received_at"], ordering="received_at")
            paginator = KeysetPagination()
            rows = paginator.paginate_queryset(
                SequenceEvent.objects.filter(enrollment=enrollment).select_related("created_by"), request, keyset
            )
            return paginator.get_paginated_response(SequenceEventSerializer(rows, many=True).data)
        data = SequenceEventInput(data=request.data)
        data.is_valid(raise_exception=True)
        event = sequences.record_event(enrollment, by=request.user, **data.validated_data)
        return Response(SequenceEventSerializer(event).data, status=status.HTTP_202_ACCEPTED)

    @extend_schema(request=None, responses=EnrollmentSerializer)
    @action(detail=True, methods=["post"])
    def finish(self, request: Request, pk: str | None = None) -> Response:
        """Finish an active enrolment by hand (reason `manual`)."""
        enrollment = sequences.finish_enrollment(self.get_object())
        return Response(EnrollmentSerializer(self.get_queryset().get(pk=enrollment.pk)).data)


def find_person(user: User, data: dict[str, Any]) -> Lead | Contact:
    """The lead or contact to enrol: 404 if the user may not see it, 403 if only read it."""
    person = find_person_by_id(user, data)
    check_editable(person, user)
    return person

