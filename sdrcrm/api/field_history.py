"""`GET …/{id}/field-history/` on leads, contacts, accounts and opportunities: the record's
field changes, newest first (sdrcrm/field_history.py writes them)."""

from __future__ import annotations

from drf_spectacular.utils import extend_schema
from rest_framework import serializers
from rest_framework.decorators import action
from rest_framework.request import Request
from rest_framework.response import Response

from sdrcrm import field_history
from sdrcrm.models import FieldChange

FIELD_HISTORY_SHOWN = 200


class FieldChangeSerializer(serializers.ModelSerializer):
    by = serializers.SlugRelatedField(slug_field="username", read_only=True, allow_null=True)

    class Meta:
        model = FieldChange
        fields = ["field", "old", "new", "by", "at"]


class FieldHistoryMixin:
    """For a viewset whose `get_object` applies the record-level access rules."""

    @extend_schema(responses=FieldChangeSerializer(many=True))
    @action(detail=True, methods=["get"], url_path="field-history")
    def field_history(self, request: Request, pk: str | None = None) -> Response:
        """The newest 200 field changes: which field, from what to what (as text), by whom, when."""
        changes = field_history.changes_of(self.get_object())[:FIELD_HISTORY_SHOWN]  # type: ignore[attr-defined]
        return Response(FieldChangeSerializer(changes, many=True).data)
