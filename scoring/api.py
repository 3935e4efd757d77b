from __future__ import annotations

from rest_framework import mixins, serializers, viewsets

from sdrcrm.api.access import IsOpsOrReadOnly
from sdrcrm.api.serializers import BlankChoicesMixin

from . import services
from .models import ScoringRule, ScoringRuleChange


class ScoringRuleChangeSerializer(serializers.ModelSerializer):
    by = serializers.SlugRelatedField(slug_field="username", read_only=True)

    class Meta:
        model = ScoringRuleChange
        fields = ["version", "old", "new", "by", "at"]


class ScoringRuleSerializer(BlankChoicesMixin, serializers.ModelSerializer):
    points = serializers.IntegerField(min_value=-services.MAX_POINTS, max_value=services.MAX_POINTS)
    changes = ScoringRuleChangeSerializer(many=True, read_only=True)

    class Meta:
        model = ScoringRule
        fields = ["id", "key", "label", "points", "activity_type", "counting", "condition", "version",
                  "updated_at", "changes"]
        read_only_fields = ["key", "activity_type", "condition", "version", "updated_at"]


class ScoreExplanationSerializer(serializers.Serializer):
    score = serializers.IntegerField()
    mql_threshold = serializers.IntegerField()
    summary = serializers.CharField()
    breakdown = serializers.ListField(child=serializers.DictField())
    ledger = serializers.ListField(child=serializers.DictField())


class ReadAllWriteOps(IsOpsOrReadOnly):
    message = "Only Sales-Dev Ops may change scoring rules."


class ScoringRuleViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, mixins.UpdateModelMixin,
                         viewsets.GenericViewSet):
    """The MQL model's rules. Ops change points, label or counting; each change is a new
    version with an audit row, and affected leads are re-scored in the background."""

    queryset = ScoringRule.objects.prefetch_related("changes__by")
    serializer_class = ScoringRuleSerializer
    permission_classes = [ReadAllWriteOps]
    ordering_fields = ["key", "id"]
    ordering = "key"

    def perform_update(self, serializer: serializers.BaseSerializer) -> None:
        serializer.instance = services.update_rule(serializer.instance, serializer.validated_data,
                                                   by=self.request.user)
