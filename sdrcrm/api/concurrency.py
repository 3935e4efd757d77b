"""Optimistic concurrency for the records people edit (leads, contacts, accounts,
opportunities): every GET of one answers an `ETag` (its version), and a PATCH or PUT that
sends `If-Match` with an older one answers 409 with the record as it is now, instead of
overwriting a colleague's change unseen."""

from __future__ import annotations

import hashlib
from typing import Any

from django.db import transaction
from django.db.models import Model
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import status
from rest_framework.request import Request
from rest_framework.response import Response

IF_MATCH = OpenApiParameter(
    "If-Match", str, OpenApiParameter.HEADER, required=False,
    description="The ETag of the record as you read it: if it changed since, the answer is 409 with the "
                "record as it is now, and nothing is written.",
)


def etag_of(record: Model) -> str:
    """The record's version: changes whenever the record is saved."""
    version = f"{record._meta.label}:{record.pk}:{record.updated_at.isoformat()}"  # type: ignore[attr-defined]
    return '"' + hashlib.sha256(version.encode()).hexdigest()[:32] + '"'


class ETagMixin:
    """For a ModelViewSet-like class with `get_object`, `get_serializer` and records with
    `updated_at`."""

    def retrieve(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        record = self.get_object()  # type: ignore[attr-defined]
        response = Response(self.get_serializer(record).data)  # type: ignore[attr-defined]
        response["ETag"] = etag_of(record)
        return response

    @extend_schema(parameters=[IF_MATCH])
    def update(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        wanted = request.headers.get("If-Match")
        if wanted is None:
            response = super().update(request, *args, **kwargs)  # type: ignore[misc]
        else:
            with transaction.atomic():  # the version read under the row's lock is the one written over
                record = self.get_object()  # type: ignore[attr-defined]
                current = type(record).objects.select_for_update().get(pk=record.pk)
                if wanted.strip() != "*" and etag_of(current) not in {tag.strip() for tag in wanted.split(",")}:
                    return self._stale(current)
                response = super().update(request, *args, **kwargs)  # type: ignore[misc]
        response["ETag"] = etag_of(self.get_object())  # type: ignore[attr-defined]
        return response

    @extend_schema(parameters=[IF_MATCH])
    def partial_update(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        kwargs["partial"] = True
        return self.update(request, *args, **kwargs)

    def _stale(self, current: Model) -> Response:
        name = current._meta.verbose_name
        response = Response({
            "detail": f"This {name} changed since you read it; nothing was written. Here it is as it is now: "
                      "apply your change to it and send it again with its new ETag.",
            "errors": {},
            "current": self.get_serializer(current).data,  # type: ignore[attr-defined]
        }, status=status.HTTP_409_CONFLICT)
        response["ETag"] = etag_of(current)
        return response
