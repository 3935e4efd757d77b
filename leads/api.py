from __future__ import annotations

from typing import Any

import django_filters
from django.db.models import Q, QuerySet
from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework import mixins, serializers, status, viewsets
from rest_framework.decorators import action
from rest_framework.exceptions import NotFound, ValidationError
from rest_framework.generics import get_object_or_404
from rest_framework.request import Request
from rest_framework.response import Response

from routing.api import RoutingDecisionSerializer, RoutingExplanationSerializer
from scoring import services as scoring
from scoring.api import ScoreExplanationSerializer
from sdrcrm.access import ScopedViewSetMixin
from sdrcrm.api_errors import first_message
from sdrcrm.field_history_api import FieldHistoryMixin
from sdrcrm.models import Region, Role, Segment, User

from . import bulk as lead_bulk
from . import listing, services, targeting
from . import spam as lead_spam
from .conversion_api import ConvertActionMixin
from .lead_views import CONTACT_VIEWS, LEAD_VIEWS, apply_view
from .merge_api import MergeActionsMixin
from .models import Account, AccountType, Activity, Contact, Lead, Status
from .serializers import (
    MAX_ID,
    AccountSerializer,
    ActivityFields,
    ActivityInput,
    ActivitySerializer,
    BulkLeadInput,
    BulkResultSerializer,
    ContactSerializer,
    ItemValidator,
    LeadSerializer,
    StatusChangeSerializer,
    StatusInput,
    input_validator,
)

MAX_BULK_ACTIVITIES = 50
SORTABLE = ["created_at", "updated_at", "status_changed_at", "score", "last_name"]


class TargetInput(serializers.Serializer):
    targeted = serializers.BooleanField(help_text="true flags the account as targeted by you; false unflags it")


class SpamInput(serializers.Serializer):
    block_domain = serializers.BooleanField(default=False, help_text="Also block the lead's email domain")


def user_param(user: User, value: str, field: str) -> User:
    """A filter's `me` or user id, as a user to filter on (400 naming `field` otherwise)."""
    if value == "me":
        return user
    # isdecimal, not isdigit: int() refuses digits such as "²".
    if not value.isdecimal() or int(value) > MAX_ID:
        raise ValidationError({field: ["Give `me` or a user id."]})
    return User(pk=int(value))


def id_filter(**kwargs: Any) -> django_filters.NumberFilter:
    return django_filters.NumberFilter(min_value=1, max_value=MAX_ID, **kwargs)


class PersonFilter(django_filters.FilterSet):
    status = django_filters.MultipleChoiceFilter(choices=Status.choices)
    owner = django_filters.CharFilter(method="filter_owner", help_text="`me` or a user id")
    queue = id_filter(field_name="queue_id")
    team = id_filter(method="filter_noop", help_text="with `view`: a team id")
    segment = django_filters.ChoiceFilter(choices=Segment.choices)
    region = django_filters.ChoiceFilter(choices=Region.choices)
    view = django_filters.CharFilter(method="filter_view")
    search = django_filters.CharFilter(method="filter_search", max_length=100)

    VIEWS: dict = LEAD_VIEWS

    def _owner(self, value: str) -> User:
        return user_param(self.request.user, value, "owner")

    def filter_owner(self, queryset: QuerySet, name: str, value: str) -> QuerySet:
        return queryset.filter(owner=self._owner(value))

    def filter_noop(self, queryset: QuerySet, name: str, value: Any) -> QuerySet:
        return queryset

    def filter_view(self, queryset: QuerySet, name: str, value: str) -> QuerySet:
        owner = self.data.get("owner")
        team = self.form.cleaned_data.get("team")
        return apply_view(queryset, value, self.request.user, owner=self._owner(owner) if owner else None,
                          team_id=int(team) if team else None, views=self.VIEWS)

    def filter_search(self, queryset: QuerySet, name: str, value: str) -> QuerySet:
        value = value.strip()
        if "@" in value:
            return queryset.filter(email__startswith=value.lower())
        return queryset.filter(
            Q(last_name__istartswith=value) | Q(first_name__istartswith=value)
            | Q(company__istartswith=value) | Q(email__startswith=value.lower())
        )


class LeadFilter(PersonFilter):
    class Meta:
        model = Lead
        fields = ["status", "owner", "queue", "segment", "region", "view", "search", "team"]


class ContactFilter(PersonFilter):
    VIEWS = CONTACT_VIEWS
    account = id_filter(field_name="account_id")

    class Meta:
        model = Contact
        fields = ["status", "owner", "queue", "segment", "region", "view", "search", "team", "account"]


def bulk_result(lead: Lead) -> dict[str, Any]:
    """What a bulk item's result says of its lead: what ingesting decided (the full record
    is at leads/{id}/). Built by hand: a serializer per item would cost more than the ingest."""
    return {
        "id": lead.pk, "email": lead.email, "status": lead.status, "status_reason": lead.status_reason,
        "score": lead.score, "owner": lead.owner_id, "queue": lead.queue_id, "segment": lead.segment,
        "region": lead.region, "sub_region": lead.sub_region, "matched_account": lead.account_id,
        "mql_at": lead.mql_at, "opted_out": lead.opted_out,
    }


class LeadViewSet(ConvertActionMixin, MergeActionsMixin, FieldHistoryMixin, ScopedViewSetMixin, mixins.ListModelMixin,
                  mixins.RetrieveModelMixin, mixins.UpdateModelMixin, viewsets.GenericViewSet):
    """Leads. `POST` creates a lead or updates the one with the same email."""

    model = Lead
    serializer_class = LeadSerializer
    filterset_class = LeadFilter
    ordering_fields = SORTABLE

    @property
    def ordering(self) -> str:
        # The SDR views work the oldest first (SPEC §8); plain lists show the newest.
        return "status_changed_at" if self.request.query_params.get("view") else "-created_at"

    def list(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        # The rows are built by hand (leads/listing.py): LeadSerializer(many=True) cost more
        # than half of the request. No docstring: it would replace the class's in the schema.
        leads = self.filter_queryset(self.get_queryset()).values(*listing.ATTNAMES)
        return self.get_paginated_response(listing.render_leads(self.paginate_queryset(leads)))

    @extend_schema(responses={201: LeadSerializer, 200: LeadSerializer})
    def create(self, request: Request) -> Response:
        data = input_validator(LeadSerializer, request, partial=True).run_validation(request.data)
        if not data.get("email"):
            raise ValidationError({"email": ["This field is required."]})
        result = services.ingest_lead(data, by=request.user)
        code = status.HTTP_201_CREATED if result.created else status.HTTP_200_OK
        # LeadSerializer's representation, built as the list builds it (leads/listing.py).
        return Response(listing.render_leads([result.lead])[0], status=code)

    def perform_update(self, serializer: serializers.BaseSerializer) -> None:
        services.update_person(serializer.instance, serializer.validated_data, by=self.request.user)

    @extend_schema(request=BulkLeadInput, responses=BulkResultSerializer)
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
        outcomes = lead_bulk.ingest_batch([item for _, item in items], by=request.user)
        for (index, _), outcome in zip(items, outcomes, strict=True):
            if outcome.lead is None:
                results[index] = {"index": index, "result": "rejected", "detail": outcome.detail,
                                  "errors": outcome.errors}
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
        services.transition(lead, data.validated_data["status"], reason=data.validated_data["reason"],
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
        lead_spam.mark_spam(lead, by=request.user, block_domain=data.validated_data["block_domain"],
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


class ContactViewSet(FieldHistoryMixin, ScopedViewSetMixin, mixins.ListModelMixin, mixins.RetrieveModelMixin,
                     mixins.UpdateModelMixin, mixins.CreateModelMixin, viewsets.GenericViewSet):
    model = Contact
    serializer_class = ContactSerializer
    filterset_class = ContactFilter
    ordering_fields = SORTABLE
    ordering = "-created_at"

    def perform_create(self, serializer: serializers.BaseSerializer) -> None:
        serializer.instance = services.create_contact(serializer.validated_data, by=self.request.user)

    def perform_update(self, serializer: serializers.BaseSerializer) -> None:
        services.update_person(serializer.instance, serializer.validated_data, by=self.request.user)


class AccountFilter(django_filters.FilterSet):
    segment = django_filters.ChoiceFilter(choices=Segment.choices)
    region = django_filters.ChoiceFilter(choices=Region.choices)
    type = django_filters.ChoiceFilter(choices=AccountType.choices)
    owner = id_filter(field_name="owner_id")
    search = django_filters.CharFilter(method="filter_search", max_length=100)

    class Meta:
        model = Account
        fields = ["segment", "region", "type", "owner", "search"]

    def filter_search(self, queryset: QuerySet, name: str, value: str) -> QuerySet:
        return queryset.filter(Q(name__istartswith=value.strip()) | Q(domain__startswith=value.strip().lower()))


class AccountViewSet(FieldHistoryMixin, ScopedViewSetMixin, mixins.ListModelMixin, mixins.RetrieveModelMixin,
                     mixins.UpdateModelMixin, mixins.CreateModelMixin, viewsets.GenericViewSet):
    model = Account
    serializer_class = AccountSerializer
    filterset_class = AccountFilter
    ordering_fields = ["created_at", "updated_at", "name"]
    ordering = "name"

    def perform_create(self, serializer: serializers.BaseSerializer) -> None:
        serializer.instance = services.save_account(Account(created_by=self.request.user),
                                                    serializer.validated_data, by=self.request.user)

    def perform_update(self, serializer: serializers.BaseSerializer) -> None:
        services.save_account(serializer.instance, serializer.validated_data, by=self.request.user)

    @extend_schema(request=TargetInput, responses=AccountSerializer)
    @action(detail=True, methods=["post"])
    def target(self, request: Request, pk: str | None = None) -> Response:
        """Flag (or unflag) the account as targeted by you. Any account you can read: SDRs
        target accounts to prospect into, not only those assigned to them (at most 40)."""
        data = TargetInput(data=request.data)
        data.is_valid(raise_exception=True)
        account = get_object_or_404(self.get_queryset(), pk=pk)
        targeting.set_targeted(account, data.validated_data["targeted"], by=request.user)
        account.refresh_from_db()
        return Response(AccountSerializer(account, context={"request": request}).data)


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
            person = services.find_person_by_email(data["email"], None if unrestricted else user)
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
