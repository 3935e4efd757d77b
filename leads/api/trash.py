"""Recoverable deletes over the API (docs/rules.md §11.2, leads/trash.py): `DELETE` on a lead,
contact, account or opportunity (`DeleteMixin`, with the If-Match rule of the API's edits),
and for ops `GET /api/v1/deleted/?kind=` (Recently deleted, keyset-paged) and
`POST /api/v1/deleted/{kind}/{id}/restore/`."""

from __future__ import annotations

from typing import Any

from django.db import transaction
from django.db.models import Model
from django.utils import timezone
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import serializers, status
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.utils.urls import replace_query_param
from rest_framework.views import APIView

from leads import trash
from sdrcrm.api.access import IsOps
from sdrcrm.api.concurrency import IF_MATCH, etag_of
from sdrcrm.errors import Refused


class DeleteMixin:
    """`DELETE {id}/`: a soft delete through leads/trash.py (204). What you cannot see is a
    404; what you may not delete, a 403; what others still need, a 409 saying what to move
    first; an `If-Match` with an older ETag, a 409 with the record as it is now."""

    @extend_schema(parameters=[IF_MATCH], responses={204: None})
    def destroy(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        record = self.get_object()  # type: ignore[attr-defined]
        wanted = request.headers.get("If-Match")
        with transaction.atomic():  # the version compared under the row's lock is the one deleted
            current = type(record).objects.select_for_update().filter(pk=record.pk).first()
            if current is None:  # deleted by someone else meanwhile
                return Response(status=status.HTTP_204_NO_CONTENT)
            if wanted is not None and wanted.strip() != "*" and \
                    etag_of(current) not in {tag.strip() for tag in wanted.split(",")}:
                return self._stale(current)  # type: ignore[attr-defined]
            trash.delete_record(current, by=request.user)
        return Response(status=status.HTTP_204_NO_CONTENT)


class DeletedRecordSerializer(serializers.Serializer):
    kind = serializers.ChoiceField(choices=trash.KIND_KEYS)
    id = serializers.IntegerField()
    name = serializers.CharField()
    deleted_at = serializers.DateTimeField()
    deleted_by = serializers.IntegerField(allow_null=True, help_text="The user who deleted it")
    deleted_by_name = serializers.CharField(allow_blank=True)
    restorable_until = serializers.DateTimeField(help_text="After this the nightly purge deletes it for good")
    days_left = serializers.IntegerField()


class DeletedPage(serializers.Serializer):
    next = serializers.URLField(allow_null=True)
    results = DeletedRecordSerializer(many=True)


class DeletedInput(serializers.Serializer):
    kind = serializers.ChoiceField(choices=trash.KIND_KEYS, default="lead")
    cursor = serializers.CharField(required=False, help_text="The `next` link's cursor.")


def deleted_row(kind: str, record: Model) -> dict[str, Any]:
    until = trash.restorable_until(record)
    by = record.deleted_by  # type: ignore[attr-defined]
    return {"kind": kind, "id": record.pk, "name": str(record), "deleted_at": record.deleted_at,  # type: ignore[attr-defined]
            "deleted_by": by.pk if by else None, "deleted_by_name": by.get_full_name() or by.username if by else "",
            "restorable_until": until, "days_left": trash.days_left(record, timezone.now())}


class DeletedListView(APIView):
    """Recently deleted (Sales-Dev Ops): the records of a kind deleted in the last
    TRASH_RETENTION_DAYS days, newest deletion first, with who deleted each and how long
    it may still be restored."""

    permission_classes = [IsOps]

    @extend_schema(parameters=[DeletedInput], responses=DeletedPage, tags=["deleted"])
    def get(self, request: Request) -> Response:
        params = DeletedInput(data=request.query_params)
        params.is_valid(raise_exception=True)
        kind = trash.kind_of(params.validated_data["kind"])
        rows, cursor = trash.KEYSET.page(trash.deleted_of(kind), trash.KEYSET.default,
                                         params.validated_data.get("cursor"), trash.KEYSET.page_size)
        next_url = replace_query_param(request.build_absolute_uri(), "cursor", cursor) if cursor else None
        return Response({"next": next_url, "results": [deleted_row(kind.key, row) for row in rows]})


class RestoredSerializer(serializers.Serializer):
    kind = serializers.ChoiceField(choices=trash.KIND_KEYS)
    id = serializers.IntegerField()
    name = serializers.CharField()


class RestoreView(APIView):
    """Restore a deleted record (Sales-Dev Ops), as it was, within TRASH_RETENTION_DAYS of its
    deletion; after that, or once purged, a 404 in words."""

    permission_classes = [IsOps]

    @extend_schema(request=None, responses=RestoredSerializer, tags=["deleted"], parameters=[
        OpenApiParameter("kind", str, OpenApiParameter.PATH, enum=trash.KIND_KEYS),
        OpenApiParameter("id", int, OpenApiParameter.PATH)])
    def post(self, request: Request, kind: str, id: int) -> Response:  # noqa: A002 - the path's name
        try:
            found = trash.kind_of(kind)
        except Refused as refused:
            raise Refused(refused.message, status=404) from None
        record = trash.restore_record(found, id, by=request.user)
        return Response({"kind": found.key, "id": record.pk, "name": str(record)})
