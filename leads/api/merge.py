"""The lead API's duplicates, merge and undo actions (docs/rules.md §9, §10), mixed into LeadViewSet:

- `GET leads/{id}/duplicates/`: other leads and contacts that look like the same person,
  each with the kind of match (at most 20 of each kind);
- `POST leads/{id}/merge/` `{"duplicate": id}`: merge that lead into this one; answers
  this lead as it is after the merge;
- `GET leads/{id}/merges/`: the leads merged into this one (their tombstones), newest
  first, cursor-paginated;
- `POST leads/{id}/merges/{tombstone_id}/undo/`: ops only; brings the merged-away lead
  back and answers it.
"""

from __future__ import annotations

from typing import Any

from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import serializers
from rest_framework.decorators import action
from rest_framework.exceptions import NotFound, PermissionDenied, ValidationError
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.utils.urls import replace_query_param

from leads import merge as lead_merge
from leads.models import InitialSource, Lead, Status, Tombstone
from sdrcrm.ids import MAX_ID
from sdrcrm.pagination import Keyset

from .serializers import LeadSerializer

MERGES = Keyset(["deleted_at"], default="-deleted_at", page_size=20, max_page_size=100)


class DuplicateSerializer(serializers.Serializer):
    kind = serializers.ChoiceField(choices=list(lead_merge.KIND_LABELS.items()))
    label = serializers.CharField(help_text="The kind of match in words")
    record = serializers.SerializerMethodField(help_text="`lead` or `contact`")
    id = serializers.IntegerField(source="person.pk")
    first_name = serializers.CharField(source="person.first_name")
    last_name = serializers.CharField(source="person.last_name")
    email = serializers.EmailField(source="person.email")
    company = serializers.CharField(source="person.company")
    status = serializers.ChoiceField(choices=Status.choices, source="person.status")
    owner = serializers.IntegerField(source="person.owner_id", allow_null=True)
    initial_source = serializers.ChoiceField(choices=InitialSource.choices, source="person.initial_source")
    created_at = serializers.DateTimeField(source="person.created_at")

    def get_record(self, duplicate: lead_merge.Duplicate) -> str:
        return "lead" if duplicate.is_lead else "contact"


class MergeInput(serializers.Serializer):
    duplicate = serializers.IntegerField(min_value=1, max_value=MAX_ID,
                                         help_text="The id of the lead merged into this one (and deleted)")


class MergedLeadSerializer(serializers.Serializer):
    """The merged-away lead as the tombstone's snapshot holds it."""

    id = serializers.IntegerField()
    first_name = serializers.CharField()
    last_name = serializers.CharField()
    email = serializers.EmailField()
    company = serializers.CharField()
    status = serializers.CharField()
    initial_source = serializers.CharField()
    owner = serializers.IntegerField(source="owner_id", allow_null=True)
    created_at = serializers.DateTimeField()


class MergeSerializer(serializers.ModelSerializer):
    marked_by = serializers.SlugRelatedField(slug_field="username", read_only=True, help_text="Who merged")
    undone_by = serializers.SlugRelatedField(slug_field="username", read_only=True)
    merged_lead = MergedLeadSerializer(source="snapshot.lead", read_only=True)

    class Meta:
        model = Tombstone
        fields = ["id", "original_id", "merged_into_id", "marked_by", "marked_at", "undone_at", "undone_by",
                  "merged_lead"]


class MergePageSerializer(serializers.Serializer):
    next = serializers.URLField(allow_null=True)
    results = MergeSerializer(many=True)


class MergeActionsMixin:
    """Actions of LeadViewSet: `get_object` is its scoped lookup (404 when not visible,
    403 for a change to a lead the user may only read)."""

    get_object: Any

    @extend_schema(responses=DuplicateSerializer(many=True))
    @action(detail=True, methods=["get"], pagination_class=None, filter_backends=[])
    def duplicates(self, request: Request, pk: str | None = None) -> Response:
        """Leads with the same email, leads at the same company domain with the same last
        name (never a free-mail domain), and contacts with the same email."""
        found = lead_merge.find_duplicates(self.get_object(), request.user)
        return Response(DuplicateSerializer(found, many=True).data)

    @extend_schema(request=MergeInput, responses=LeadSerializer)
    @action(detail=True, methods=["post"], filter_backends=[])
    def merge(self, request: Request, pk: str | None = None) -> Response:
        """Merge the `duplicate` lead into this one. This lead keeps its id, owner and
        status; it takes the oldest initial source, the earliest MQL date, every activity
        and all history, and any opt-out. The duplicate is deleted, leaving a tombstone
        (see `merges/`) from which ops can undo the merge."""
        data = MergeInput(data=request.data)
        data.is_valid(raise_exception=True)
        lead = self.get_object()
        other_id = data.validated_data["duplicate"]
        other = Lead.objects.visible_to(request.user).filter(pk=other_id).first()
        if other is None:
            raise ValidationError({"duplicate": [f"No lead with id {other_id}."]})
        lead_merge.merge_leads(lead, other, by=request.user)
        lead.refresh_from_db()
        return Response(LeadSerializer(lead, context={"request": request}).data)

    @extend_schema(responses=MergePageSerializer, parameters=[
        OpenApiParameter("cursor", OpenApiTypes.STR, description="The `next` link's cursor."),
        OpenApiParameter("page_size", OpenApiTypes.INT, description="1 to 100 (default 20)."),
    ])
    @action(detail=True, methods=["get"], pagination_class=None, filter_backends=[])
    def merges(self, request: Request, pk: str | None = None) -> Response:
        """The leads merged into this one, newest first, with who merged them and whether
        the merge was undone."""
        lead = self.get_object()
        tombstones = lead_merge.merges_into(lead).select_related(
            "marked_by", "undone_by")
        rows, cursor = MERGES.page(tombstones, MERGES.default, request.query_params.get("cursor"),
                                   MERGES.size(request.query_params.get("page_size")))
        next_url = replace_query_param(request.build_absolute_uri(), "cursor", cursor) if cursor else None
        return Response({"next": next_url, "results": MergeSerializer(rows, many=True).data})

    @extend_schema(request=None, responses=LeadSerializer, parameters=[
        OpenApiParameter("tombstone_id", OpenApiTypes.INT, OpenApiParameter.PATH,
                         description="The id of a tombstone listed at `merges/`"),
    ])
    @action(detail=True, methods=["post"], url_path=r"merges/(?P<tombstone_id>[0-9]+)/undo", filter_backends=[])
    def undo_merge(self, request: Request, pk: str | None = None, tombstone_id: str = "") -> Response:
        """Undo a merge into this lead (Sales-Dev Ops only): the merged-away lead comes back
        with its id, fields and rows; this lead gets its own values back. Answers the lead
        brought back."""
        lead = self.get_object()
        if not request.user.is_ops:
            raise PermissionDenied("Only Sales-Dev Ops may undo a merge.")
        number = int(tombstone_id)
        tombstone = None
        if number <= MAX_ID:
            tombstone = lead_merge.merges_into(lead).filter(pk=number).first()
        if tombstone is None:
            raise NotFound(f"No merge {tombstone_id} into lead {lead.pk}.")
        restored = lead_merge.undo_merge(tombstone, by=request.user)
        return Response(LeadSerializer(restored, context={"request": request}).data)
