"""`/api/v1/leads/`: posting a lead (create or update by email), bulk ingest, edits,
status moves, spam, and each lead's history, score and routing explained."""

from __future__ import annotations

from typing import Any

from drf_spectacular.utils import PolymorphicProxySerializer, extend_schema
from rest_framework import mixins, serializers, status, viewsets
from rest_framework.decorators import action
from rest_framework.exceptions import ValidationError
from rest_framework.request import Request
from rest_framework.response import Response

from leads import bulk, lifecycle, people, services, spam
from leads.models import Lead, can_read, readable_ids
from routing.api import RoutingDecisionSerializer, RoutingExplanationSerializer
from scoring import services as scoring
from scoring.api import ScoreExplanationSerializer
from sdrcrm.api.access import ScopedViewSetMixin
from sdrcrm.api.concurrency import ETagMixin
from sdrcrm.api.errors import first_message
from sdrcrm.api.field_history import FieldHistoryMixin
from sdrcrm.api.idempotency import idempotent

from . import listing
from .conversion import ConvertActionMixin
from .filters import SORTABLE, LeadFilter
from .merge import MergeActionsMixin
from .serializers import (
    ActivityFields,
    BulkLeadInput,
    BulkResultSerializer,
    ItemValidator,
    LeadSerializer,
    StatusChangeSerializer,
    StatusInput,
    input_validator,
)
from .trash import DeleteMixin

MAX_BULK_ACTIVITIES = 50
# What an upsert receipt may echo: the lead's own writable fields, as the caller sent them.
RECEIPT_FIELDS = frozenset(name for name, field in LeadSerializer().fields.items() if not field.read_only)


class UpsertReceiptSerializer(serializers.Serializer):
    """An upsert of a lead you may not read (an integration updating a lead someone else
    created): the fields you sent, the lead's id and what happened, nothing else."""

    id = serializers.IntegerField()
    result = serializers.ChoiceField(choices=["created", "updated"])


class SpamInput(serializers.Serializer):
    block_domain = serializers.BooleanField(default=False, help_text="Also block the lead's email domain")


def receipt(sent: Any, lead: Lead, result: str) -> dict[str, Any]:
    """The answer to an upsert of a lead the caller may not read (an integration updating
    someone else's lead by email): what it sent of the lead's fields, the lead's id and
    the result, and nothing else of the record."""
    fields = {key: value for key, value in sent.items() if key in RECEIPT_FIELDS} if isinstance(sent, dict) else {}
    return {**fields, "id": lead.pk, "result": result}


def bulk_result(lead: Lead) -> dict[str, Any]:
    """What a bulk item's result says of its lead: what ingesting decided (the full record
    is at leads/{id}/). Built by hand: a serializer per item would cost more than the ingest."""
    return {
        "id": lead.pk, "email": lead.email, "status": lead.status, "status_reason": lead.status_reason,
        "score": lead.score, "owner": lead.owner_id, "queue": lead.queue_id, "segment": lead.segment,
        "region": lead.region, "sub_region": lead.sub_region, "matched_account": lead.account_id,
        "mql_at": lead.mql_at, "opted_out": lead.opted_out,
    }


class LeadViewSet(DeleteMixin, ETagMixin, ConvertActionMixin, MergeActionsMixin, FieldHistoryMixin, ScopedViewSetMixin,
                  mixins.ListModelMixin, mixins.RetrieveModelMixin,
                  mixins.UpdateModelMixin, viewsets.GenericViewSet):
    """Leads. `POST` creates a lead or updates the one with the same email."""

    model = Lead
    serializer_class = LeadSerializer
    filterset_class = LeadFilter
    ordering_fields = SORTABLE

    @property
    def ordering(self) -> str:
        # The SDR views work the oldest first (docs/rules.md §9); plain lists show the newest.
        return "status_changed_at" if self.request.query_params.get("view") else "-created_at"

    def list(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        # The rows are built by hand (leads/listing.py): LeadSerializer(many=True) cost more
        # than half of the request. No docstring: it would replace the class's in the schema.
        leads = self.filter_queryset(self.get_queryset()).values(*listing.ATTNAMES)
        return self.get_paginated_response(listing.render_leads(self.paginate_queryset(leads)))

    @extend_schema(responses={201: LeadSerializer, 200: PolymorphicProxySerializer(
        component_name="LeadUpsert", serializers=[LeadSerializer, UpsertReceiptSerializer],
        resource_type_field_name=None)})
    @idempotent
    def create(self, request: Request) -> Response:
        data = input_validator(LeadSerializer, request, partial=True).run_validation(request.data)
        if not data.get("email"):
            raise ValidationError({"email": ["This field is required."]})
        result = services.ingest_lead(data, by=request.user)
        code = status.HTTP_201_CREATED if result.created else status.HTTP_200_OK
        if not can_read(result.lead, request.user):
            return Response(receipt(request.data, result.lead, "updated"), status=code)
        # LeadSerializer's representation, built as the list builds it (leads/listing.py).
        return Response(listing.render_leads([result.lead])[0], status=code)

    def perform_update(self, serializer: serializers.BaseSerializer) -> None:
        people.update_person(serializer.instance, serializer.validated_data, by=self.request.user)

    @extend_schema(request=BulkLeadInput, responses=BulkResultSerializer)
    @idempotent
    @action(detail=False, methods=["post"])
    def bulk(self, request: Request) -> Response:
        """Up to 1,000 leads with their activities, scored and routed like single ones; a
        result per item. Good items are written even when others are rejected."""
        body = request.data if isinstance(request.data, dict) else {"leads": request.data}
        batch = BulkLeadInput(data=body)
        batch.is_valid(raise_exception=True)
        # One serializer of each kind for the whole batch: DRF builds a serializer's
        # fields on first use, which costs more than validating an item.
        lead_input = input_validator(LeadSerializer, request, partial=True)
        activity_input = input_validator(ActivityFields, request)
        items, results = [], {}
        for index, raw in enumerate(batch.validated_data["leads"]):
            item = self._validate_bulk_item(raw, lead_input, activity_input)
            if isinstance(item, dict) and "errors" in item:
                results[index] = {"index": index, "result": "rejected", **item}
            else:
                items.append((index, item))
        outcomes = bulk.ingest_batch([item for _, item in items], by=request.user)
        sent = batch.validated_data["leads"]
        readable = readable_ids([outcome.lead for outcome in outcomes if outcome.lead is not None], request.user)
        for (index, _), outcome in zip(items, outcomes, strict=True):
            if outcome.lead is None:
                results[index] = {"index": index, "result": "rejected", "detail": outcome.detail,
                                  "errors": outcome.errors}
            elif outcome.lead.pk not in readable:
                results[index] = {"index": index, **receipt(sent[index], outcome.lead, outcome.result)}
            else:
                results[index] = {"index": index, "result": outcome.result, **bulk_result(outcome.lead)}
        ordered = [results[i] for i in sorted(results)]
        counts = {kind: sum(1 for r in ordered if r["result"] == kind) for kind in ("created", "updated", "rejected")}
        return Response({**counts, "results": ordered})

    @staticmethod
    def _validate_bulk_item(raw: Any, lead_input: ItemValidator, activity_input: ItemValidator) -> Any:
        """(lead data, activities) for a valid item, else {"detail", "errors"}."""
        if not isinstance(raw, dict):
            return {"detail": "Each lead must be a JSON object.", "errors": {}}
        raw = dict(raw)
        activities_raw = raw.pop("activities", [])
        errors: dict[str, Any] = {}
        lead: dict[str, Any] = {}
        try:
            lead = dict(lead_input.run_validation(raw))
        except ValidationError as invalid:
            errors.update(invalid.detail)
        else:
            if not lead.get("email"):
                errors["email"] = ["This field is required."]
        activities = []
        if not isinstance(activities_raw, list) or len(activities_raw) > MAX_BULK_ACTIVITIES:
            errors["activities"] = [f"A list of at most {MAX_BULK_ACTIVITIES} activities."]
        else:
            activity_errors: list[Any] = []
            for activity in activities_raw:
                try:
                    activities.append(dict(activity_input.run_validation(activity)))
                    activity_errors.append({})
                except ValidationError as invalid:
                    activity_errors.append(invalid.detail)
            if any(activity_errors):
                errors["activities"] = activity_errors
        if errors:
            return {"detail": first_message(errors), "errors": errors}
        return lead, activities

    @extend_schema(request=StatusInput, responses=LeadSerializer)
    @action(detail=True, methods=["post"])
    def status(self, request: Request, pk: str | None = None) -> Response:
        data = StatusInput(data=request.data)
        data.is_valid(raise_exception=True)
        lead = self.get_object()
        lifecycle.transition(lead, data.validated_data["status"], reason=data.validated_data["reason"],
                            by=request.user)
        lead.refresh_from_db()
        return Response(LeadSerializer(lead, context={"request": request}).data)

    @extend_schema(request=SpamInput, responses=LeadSerializer)
    @action(detail=True, methods=["post"])
    def spam(self, request: Request, pk: str | None = None) -> Response:
        """Mark the lead as spam: it is closed as Unqualified (spam) and deleted for good by
        the nightly spam_deletion job; `block_domain` also blocks its email domain then."""
        data = SpamInput(data=request.data)
        data.is_valid(raise_exception=True)
        lead = self.get_object()
        spam.mark_spam(lead, by=request.user, block_domain=data.validated_data["block_domain"],
                            editable=True)  # get_object checked it
        lead.refresh_from_db()
        return Response(LeadSerializer(lead, context={"request": request}).data)

    @extend_schema(responses=StatusChangeSerializer(many=True))
    @action(detail=True, methods=["get"])
    def history(self, request: Request, pk: str | None = None) -> Response:
        lead = self.get_object()
        changes = lead.status_changes.select_related("by").order_by("at", "id")
        return Response(StatusChangeSerializer(changes, many=True).data)

    @extend_schema(responses=ScoreExplanationSerializer)
    @action(detail=True, methods=["get"])
    def score(self, request: Request, pk: str | None = None) -> Response:
        """The score, a per-rule breakdown in words, and the latest ledger rows."""
        return Response(scoring.explain(self.get_object()))

    @extend_schema(responses=RoutingExplanationSerializer)
    @action(detail=True, methods=["get"])
    def routing(self, request: Request, pk: str | None = None) -> Response:
        """Every routing decision for the lead, newest first, with its inputs and reason."""
        lead = self.get_object()
        decisions = lead.routing_decisions.select_related("ruleset", "pool", "queue").order_by("-at", "-id")[:20]
        return Response({
            "owner": lead.owner_id, "queue": lead.queue_id, "matched_account": lead.account_id,
            "decisions": RoutingDecisionSerializer(decisions, many=True).data,
        })
