"""`opportunities/` and `opportunities/{id}/stage/` (docs/rules.md §10)."""

from __future__ import annotations

from typing import Any

import django_filters
from django import forms
from django.db.models import QuerySet
from drf_spectacular.utils import extend_schema
from rest_framework import mixins, serializers, status, viewsets
from rest_framework.decorators import action
from rest_framework.exceptions import PermissionDenied
from rest_framework.request import Request
from rest_framework.response import Response

from leads.api.filters import id_filter, user_param
from leads.api.trash import DeleteMixin
from opportunities import services
from opportunities.models import Opportunity, Stage
from sdrcrm.api.access import ScopedViewSetMixin
from sdrcrm.api.concurrency import ETagMixin
from sdrcrm.api.field_history import FieldHistoryMixin
from sdrcrm.api.idempotency import idempotent
from sdrcrm.errors import Refused
from sdrcrm.models import User

from .serializers import OpportunitySerializer, StageChangeSerializer, StageInput


class StrictBooleanField(forms.NullBooleanField):
    """true/false (or absent); anything else is a 400, not a silently ignored filter."""

    widget = forms.TextInput

    def to_python(self, value: Any) -> bool | None:
        text = str(value or "").strip().lower()
        if not text:
            return None
        if text in ("true", "1", "yes"):
            return True
        if text in ("false", "0", "no"):
            return False
        raise forms.ValidationError("Give true or false.")


class StrictBooleanFilter(django_filters.BooleanFilter):
    field_class = StrictBooleanField


class OpportunityFilter(django_filters.FilterSet):
    stage = django_filters.MultipleChoiceFilter(choices=Stage.choices)
    owner = django_filters.CharFilter(method="filter_person", help_text="`me` or a user id")
    sdr = django_filters.CharFilter(method="filter_person", help_text="`me` or a user id (the credited SDR)")
    account = id_filter(field_name="account_id")
    sao = StrictBooleanFilter(field_name="sales_accepted_date", lookup_expr="isnull", exclude=True,
                                       help_text="true: accepted (SAO) only; false: not accepted")
    search = django_filters.CharFilter(field_name="name", lookup_expr="istartswith", max_length=100,
                                       help_text="Name prefix")

    class Meta:
        model = Opportunity
        fields = ["stage", "owner", "sdr", "account", "sao", "search"]

    def filter_person(self, queryset: QuerySet, name: str, value: str) -> QuerySet:
        return queryset.filter(**{name: user_param(self.request.user, value, name)})


class OpportunityViewSet(DeleteMixin, ETagMixin, FieldHistoryMixin, ScopedViewSetMixin, mixins.ListModelMixin,
                         mixins.RetrieveModelMixin,
                         mixins.CreateModelMixin, mixins.UpdateModelMixin, viewsets.GenericViewSet):
    """Opportunities you can see. Edits are PATCH (no PUT); stage moves are `POST {id}/stage/`."""

    model = Opportunity
    serializer_class = OpportunitySerializer
    filterset_class = OpportunityFilter
    ordering_fields = ["created_at", "stage_changed_at"]
    ordering = "-created_at"
    http_method_names = ["get", "post", "patch", "delete", "head", "options"]

    def create(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        user: User = request.user
        if not services.may_create_opportunity(user):
            raise PermissionDenied("Only sales development, their managers, ops and sellers create opportunities.")
        serializer = self.get_serializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = dict(serializer.validated_data)
        account = data.pop("account")
        opportunity = services.create_opportunity(account, services.with_defaults(data, user), by=user)
        return Response(self.get_serializer(opportunity).data, status=status.HTTP_201_CREATED)

    def perform_update(self, serializer: serializers.BaseSerializer) -> None:
        serializer.instance = services.update_opportunity(serializer.instance, serializer.validated_data,
                                                          by=self.request.user)

    @extend_schema(request=StageInput, responses=OpportunitySerializer)
    @idempotent
    @action(detail=True, methods=["post"])
    def stage(self, request: Request, pk: str | None = None) -> Response:
        """Move the opportunity to another stage under the rules of docs/rules.md §4."""
        data = StageInput(data=request.data)
        data.is_valid(raise_exception=True)
        opportunity = self.get_object()
        values = dict(data.validated_data)
        merged_into = None
        merged_id = values.pop("merged_into")
        if merged_id is not None:
            merged_into = Opportunity.objects.visible_to(request.user).filter(pk=merged_id).first()
            if merged_into is None:
                raise Refused(f"There is no opportunity {merged_id} that you can see.", field="merged_into")
        services.change_stage(opportunity, values.pop("stage"), by=request.user, merged_into=merged_into, **values)
        return Response(self.get_serializer(opportunity).data)

    @extend_schema(responses=StageChangeSerializer(many=True))
    @action(detail=True, methods=["get"], filter_backends=[], pagination_class=None)
    def history(self, request: Request, pk: str | None = None) -> Response:
        """Every stage move, oldest first: from, to, by, when."""
        opportunity = self.get_object()
        changes = opportunity.stage_changes.select_related("by").order_by("at", "id")
        return Response(StageChangeSerializer(changes, many=True).data)

