"""`iqms/`: initial qualifying meetings (docs/rules.md §4, §10). The rules are in
opportunities/iqms.py; this module scopes, checks the input's shape, finds the records
the ids name (among those the user may see) and answers."""

from __future__ import annotations

from typing import Any

import django_filters
from django.db.models import QuerySet
from drf_spectacular.utils import extend_schema
from rest_framework import mixins, serializers, status, viewsets
from rest_framework.exceptions import PermissionDenied
from rest_framework.request import Request
from rest_framework.response import Response

from leads.api.filters import id_filter, user_param
from leads.models import Account, Contact, Lead, Sequence
from opportunities import iqms
from opportunities.models import IQM, ActivitySource, Disposition, Opportunity
from sdrcrm.api.access import ScopedViewSetMixin
from sdrcrm.errors import Refused
from sdrcrm.ids import MAX_ID
from sdrcrm.models import User

DISPOSITIONS = ", ".join(Disposition.values)
SOURCES = ", ".join(ActivitySource.values)


class IQMSerializer(serializers.ModelSerializer):
    class Meta:
        model = IQM
        fields = ["id", "subject", "lead", "contact", "account", "opportunity", "sdr", "booked_by", "start", "end",
                  "location", "disposition", "activity_source", "sequence", "description", "unqualify_flagged_at",
                  "created_at", "updated_at"]
        read_only_fields = fields


def id_field(**kwargs: Any) -> serializers.IntegerField:
    return serializers.IntegerField(min_value=1, max_value=MAX_ID, **kwargs)


class IQMChangeInput(serializers.Serializer):
    """What a PATCH may change; the subject follows the person and is never written."""

    start = serializers.DateTimeField(required=False)
    end = serializers.DateTimeField(required=False)
    location = serializers.CharField(required=False, allow_blank=True, max_length=255)
    disposition = serializers.ChoiceField(
        choices=Disposition.choices, required=False,
        error_messages={"invalid_choice": f"'{{input}}' is not a disposition; one of: {DISPOSITIONS}."},
    )
    activity_source = serializers.ChoiceField(
        choices=ActivitySource.choices, required=False,
        error_messages={"invalid_choice": f"'{{input}}' is not an activity source; one of: {SOURCES}."},
    )
    description = serializers.CharField(required=False, allow_blank=True, max_length=20_000,
                                        help_text="Pre- and post-IQM notes")
    opportunity = id_field(required=False, allow_null=True, help_text="On the same account; null for none (unlinks)")
    sequence = id_field(required=False, allow_null=True, help_text="The attributed sequence")
    sdr = id_field(required=False, help_text="Assigned to: an SDR or BDR")


class IQMBookInput(IQMChangeInput):
    """A new IQM: exactly one of `lead` and `contact`. `sdr` defaults to the booking user
    when they are an SDR or BDR; `account` to the person's account."""

    lead = id_field(required=False)
    contact = id_field(required=False)
    account = id_field(required=False)
    start = serializers.DateTimeField()
    end = serializers.DateTimeField()

    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        if (attrs.get("lead") is None) == (attrs.get("contact") is None):
            raise serializers.ValidationError({"non_field_errors": ["Give exactly one of lead or contact."]})
        return attrs


class IQMFilter(django_filters.FilterSet):
    sdr = django_filters.CharFilter(method="filter_sdr", help_text="`me` or a user id")
    lead = id_filter(field_name="lead_id")
    contact = id_filter(field_name="contact_id")
    opportunity = id_filter(field_name="opportunity_id")
    disposition = django_filters.MultipleChoiceFilter(choices=Disposition.choices)
    start = django_filters.DateFromToRangeFilter(
        field_name="start", help_text="`start_after` and `start_before`: dates (YYYY-MM-DD), both included")

    class Meta:
        model = IQM
        fields = ["sdr", "lead", "contact", "opportunity", "disposition", "start"]

    def filter_sdr(self, queryset: QuerySet, name: str, value: str) -> QuerySet:
        return queryset.filter(sdr=user_param(self.request.user, value, "sdr"))


def find(scope: QuerySet, pk: int | None, field: str) -> Any:
    """The record `pk` names among those the user may see; 400 naming the field otherwise,
    worded the same whether it does not exist or is someone else's."""
    if pk is None:
        return None
    found = scope.filter(pk=pk).first()
    if found is None:
        raise Refused(f"No {scope.model._meta.verbose_name} with id {pk}.", field=field)
    return found


def resolve(user: User, data: dict[str, Any]) -> dict[str, Any]:
    """The input's ids as records, for the service."""
    resolved = dict(data)
    scopes = {
        "opportunity": Opportunity.objects.visible_to(user),
        "account": Account.objects.visible_to(user),
        "sequence": Sequence.objects.all(),  # everyone reads the sequences
        "sdr": User.objects.all(),  # the service says who may be assigned
    }
    for field, scope in scopes.items():
        if field in data:
            resolved[field] = find(scope, data[field], field)
    return resolved


class IQMViewSet(ScopedViewSetMixin, mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet):
    """Initial qualifying meetings. `POST` books one with a lead or contact the user may
    change; `PATCH` changes the times, notes, disposition, SDR, sequence or opportunity."""

    model = IQM
    serializer_class = IQMSerializer
    filterset_class = IQMFilter
    ordering_fields = ["start", "created_at"]
    ordering = "-start"

    @extend_schema(request=IQMBookInput, responses={201: IQMSerializer})
    def create(self, request: Request) -> Response:
        data = IQMBookInput(data=request.data)
        data.is_valid(raise_exception=True)
        values = dict(data.validated_data)
        person = self._person(request.user, values.pop("lead", None), values.pop("contact", None))
        iqm = iqms.book_iqm(person, resolve(request.user, values), by=request.user)
        return Response(IQMSerializer(iqm).data, status=status.HTTP_201_CREATED)

    @extend_schema(request=IQMChangeInput, responses=IQMSerializer)
    def partial_update(self, request: Request, pk: str | None = None) -> Response:
        iqm = self.get_object()
        data = IQMChangeInput(data=request.data, partial=True)
        data.is_valid(raise_exception=True)
        iqm = iqms.update_iqm(iqm, resolve(request.user, dict(data.validated_data)))
        return Response(IQMSerializer(iqm).data)

    @staticmethod
    def _person(user: User, lead_id: int | None, contact_id: int | None) -> Lead | Contact:
        """The person to meet: 400 if the user may not see them, 403 if only read them."""
        model: type[Lead] | type[Contact] = Lead if lead_id is not None else Contact
        field = "lead" if lead_id is not None else "contact"
        person = find(model.objects.visible_to(user), lead_id or contact_id, field)
        if not model.objects.editable_by(user).filter(pk=person.pk).exists():
            raise PermissionDenied(f"You may read this {model._meta.verbose_name} but not book an IQM with them.")
        return person
