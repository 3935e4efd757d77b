"""API shapes of sequences, enrolments and sequence events (SPEC §6)."""

from __future__ import annotations

from typing import Any

from rest_framework import serializers

from . import sequences
from .models import Enrollment, Sequence, SequenceEvent, SequenceStep, StepType
from .serializers import MAX_ID

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
