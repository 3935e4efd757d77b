"""Ops configuration of routing: pools and members, territories (with CSV import), and
versioned rule sets (edit a draft, then activate it)."""

from __future__ import annotations

import csv
import io
from typing import Any

from django.db import transaction
from django.db.models import QuerySet
from drf_spectacular.utils import extend_schema
from rest_framework import mixins, serializers, status, viewsets
from rest_framework.decorators import action
from rest_framework.parsers import FormParser, MultiPartParser
from rest_framework.request import Request
from rest_framework.response import Response

from sdrcrm.api.access import IsOpsOrReadOnly
from sdrcrm.errors import Refused
from sdrcrm.models import User

from . import pools, rulesets, territories
from .models import Pool, PoolMember, RoutingDecision, RoutingRule, RuleSet, Territory
from .replay import replay as replay_ruleset


class RoutingDecisionSerializer(serializers.ModelSerializer):
    ruleset_version = serializers.IntegerField(source="ruleset.version", read_only=True, allow_null=True)
    pool = serializers.SlugRelatedField(slug_field="name", read_only=True)
    queue = serializers.SlugRelatedField(slug_field="name", read_only=True)

    class Meta:
        model = RoutingDecision
        fields = ["id", "at", "ruleset_version", "rule_position", "rule_kind", "action", "owner", "pool", "queue",
                  "reason", "inputs", "candidates"]


class RoutingExplanationSerializer(serializers.Serializer):
    owner = serializers.IntegerField(allow_null=True)
    queue = serializers.IntegerField(allow_null=True)
    matched_account = serializers.IntegerField(allow_null=True)
    decisions = RoutingDecisionSerializer(many=True)


class ReadAllWriteOps(IsOpsOrReadOnly):
    message = "Only Sales-Dev Ops may change routing."


class PoolMemberSerializer(serializers.ModelSerializer):
    user = serializers.PrimaryKeyRelatedField(queryset=User.objects.filter(is_active=True))
    weight = serializers.IntegerField(min_value=1, max_value=pools.MAX_WEIGHT, default=1)
    position = serializers.IntegerField(min_value=0, max_value=pools.MAX_POSITION, default=0)
    is_available = serializers.BooleanField(source="user.is_available", read_only=True)

    class Meta:
        model = PoolMember
        fields = ["user", "position", "weight", "assigned", "is_available"]
        read_only_fields = ["assigned"]


class PoolSerializer(serializers.ModelSerializer):
    members = PoolMemberSerializer(many=True, required=False)

    class Meta:
        model = Pool
        fields = ["id", "name", "description", "members"]

    # A user once per pool: pools.save_pool's check.

    def create(self, validated_data: dict[str, Any]) -> Pool:
        members = validated_data.pop("members", [])
        return pools.save_pool(Pool(), validated_data, members)

    def update(self, instance: Pool, validated_data: dict[str, Any]) -> Pool:
        members = validated_data.pop("members", None)
        return pools.save_pool(instance, validated_data, members)


class PoolViewSet(viewsets.ModelViewSet):
    queryset = Pool.objects.prefetch_related("members__user")
    serializer_class = PoolSerializer
    permission_classes = [ReadAllWriteOps]
    ordering_fields = ["name", "id"]
    ordering = "name"


class TerritorySerializer(serializers.ModelSerializer):
    class Meta:
        model = Territory
        fields = ["id", "name", "region", "sub_region", "countries", "segment", "sdr", "sal"]

    def validate_countries(self, value: str) -> str:
        try:
            return territories.clean_countries(value)
        except Refused as exc:
            raise serializers.ValidationError(exc.message) from None

    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        """routing/territories.py's rules, on the territory as it will be."""
        def value(field: str) -> Any:
            return attrs[field] if field in attrs else getattr(self.instance, field, None)

        try:
            territories.check_geography(value("region") or "", value("sub_region") or "", value("segment") or "")
            territories.check_cover(value("sdr"), value("sal"))
        except Refused as exc:
            raise serializers.ValidationError({exc.field: [exc.message]}) from None
        return attrs


class TerritoryImportResult(serializers.Serializer):
    dry_run = serializers.BooleanField()
    valid = serializers.IntegerField(help_text="rows that would be (or were) written")
    rows = serializers.ListField(child=serializers.DictField(), help_text="on a 400: per bad row, its errors")
    written = serializers.IntegerField()


class TerritoryImportInput(serializers.Serializer):
    file = serializers.FileField()
    dry_run = serializers.BooleanField(default=False)


class TerritoryViewSet(viewsets.ModelViewSet):
    """Territories. `POST import/` takes a CSV with the columns name, region, sub_region,
    countries (space- or comma-separated), segment, sdr (username), sal (username)."""

    queryset = Territory.objects.all()
    serializer_class = TerritorySerializer
    permission_classes = [ReadAllWriteOps]
    ordering_fields = ["name", "id"]
    ordering = "name"

    @extend_schema(request={"multipart/form-data": TerritoryImportInput}, responses=TerritoryImportResult)
    @action(detail=False, methods=["post"], url_path="import", parser_classes=[MultiPartParser, FormParser])
    def import_csv(self, request: Request) -> Response:
        data = TerritoryImportInput(data=request.data)
        data.is_valid(raise_exception=True)
        raw = data.validated_data["file"].read()
        try:
            rows = list(csv.DictReader(io.StringIO(raw.decode("utf-8-sig"))))
        except (UnicodeDecodeError, csv.Error) as exc:
            raise Refused(f"The file is not a UTF-8 CSV: {exc}", field="file") from None
        result = import_territories(rows, dry_run=data.validated_data["dry_run"])
        if result["rows"]:
            bad = len(result["rows"])
            return Response({
                "detail": f"{bad} row{'s' if bad != 1 else ''} of the file {'have' if bad != 1 else 'has'} errors; "
                          "nothing was written.",
                "errors": {"rows": result.pop("rows")}, **result,
            }, status=status.HTTP_400_BAD_REQUEST)
        return Response(result)


def import_territories(rows: list[dict[str, str]], dry_run: bool) -> dict[str, Any]:
    """Validate every row with the API's own field rules first; write all of them in one
    transaction, or none."""
    users = {u.username: u for u in User.objects.filter(is_active=True)}
    errors: list[dict[str, Any]] = []
    parsed = []
    for number, row in enumerate(rows, start=2):  # row 1 is the header
        row = {k.strip().lower(): (v or "").strip() for k, v in row.items() if k}
        payload = {
            "name": row.get("name", ""), "region": row.get("region", "").lower(),
            "sub_region": row.get("sub_region", "").lower(),
            "countries": ",".join(row.get("countries", "").replace(",", " ").split()),
            "segment": row.get("segment", "").lower(),
            "sdr": users[row["sdr"]].pk if row.get("sdr") in users else None,
            "sal": users[row["sal"]].pk if row.get("sal") in users else None,
        }
        problems = {}
        if row.get("sdr") and row["sdr"] not in users:
            problems["sdr"] = [f"No active user {row['sdr']!r}."]
        if row.get("sal") and row["sal"] not in users:
            problems["sal"] = [f"No active user {row['sal']!r}."]
        existing = Territory.objects.filter(name=payload["name"]).first()
        serializer = TerritorySerializer(existing, data=payload)  # the API's own field rules
        if not serializer.is_valid():
            problems.update(serializer.errors)
        if problems:
            errors.append({"row": number, "errors": problems})
        else:
            parsed.append(serializer)
    if errors or dry_run:
        return {"dry_run": dry_run, "valid": len(parsed), "rows": errors, "written": 0}
    with transaction.atomic():
        for serializer in parsed:
            serializer.save()
    return {"dry_run": False, "valid": len(parsed), "rows": [], "written": len(parsed)}




class RoutingRuleSerializer(serializers.ModelSerializer):
    kind = serializers.ChoiceField(choices=RoutingRule.Kind.choices)
    position = serializers.IntegerField(min_value=1, max_value=1000)

    class Meta:
        model = RoutingRule
        fields = ["position", "kind", "label", "enabled", "params"]

    def validate_params(self, value: Any) -> dict[str, Any]:
        if not isinstance(value, dict):
            raise serializers.ValidationError("params must be a JSON object.")
        return value


class RuleSetSerializer(serializers.ModelSerializer):
    rules = RoutingRuleSerializer(many=True)

    class Meta:
        model = RuleSet
        fields = ["id", "version", "state", "note", "created_at", "activated_at", "rules"]
        read_only_fields = ["version", "state", "created_at", "activated_at"]

    # The rules' own checks (positions, pool names) are rulesets.update_draft's.


class ReplayInput(serializers.Serializer):
    start = serializers.DateTimeField()
    end = serializers.DateTimeField()

    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        if attrs["end"] <= attrs["start"]:
            raise serializers.ValidationError({"end": ["end must be after start."]})
        return attrs


class ReplayRowSerializer(serializers.Serializer):
    key = serializers.CharField()
    would = serializers.IntegerField()
    did = serializers.IntegerField()


class ReplayReportSerializer(serializers.Serializer):
    ruleset_version = serializers.IntegerField()
    leads = serializers.IntegerField()
    changed = serializers.IntegerField()
    truncated = serializers.BooleanField()
    by_rule = ReplayRowSerializer(many=True)
    by_destination = ReplayRowSerializer(many=True)


class RuleSetViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, mixins.UpdateModelMixin,
                     viewsets.GenericViewSet):
    """Routing rule sets. `POST draft/` copies the active set into a new draft; edit the
    draft's rules with PUT/PATCH; `POST {id}/activate/` makes it the active version."""

    serializer_class = RuleSetSerializer
    permission_classes = [ReadAllWriteOps]
    ordering_fields = ["version"]
    ordering = "-version"

    def get_queryset(self) -> QuerySet:
        return RuleSet.objects.prefetch_related("rules")

    def perform_update(self, serializer: serializers.BaseSerializer) -> None:
        serializer.instance = rulesets.update_draft(serializer.instance, dict(serializer.validated_data))

    @extend_schema(request=None, responses={201: RuleSetSerializer})
    @action(detail=False, methods=["post"])
    def draft(self, request: Request) -> Response:
        ruleset = rulesets.create_draft(by=request.user)
        return Response(RuleSetSerializer(ruleset).data, status=status.HTTP_201_CREATED)

    @extend_schema(request=ReplayInput, responses=ReplayReportSerializer)
    @action(detail=True, methods=["post"])
    def replay(self, request: Request, pk: str | None = None) -> Response:
        """What this rule set would have done with the leads created in [start, end),
        per rule and per destination, against what happened. Changes nothing."""
        data = ReplayInput(data=request.data)
        data.is_valid(raise_exception=True)
        report = replay_ruleset(self.get_object(), data.validated_data["start"], data.validated_data["end"])
        return Response(report.as_dict())

    @extend_schema(request=None, responses=RuleSetSerializer)
    @action(detail=True, methods=["post"])
    def activate(self, request: Request, pk: str | None = None) -> Response:
        ruleset = rulesets.activate(self.get_object())
        return Response(RuleSetSerializer(ruleset).data)

