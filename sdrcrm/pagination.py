"""Keyset pagination: each page continues after the last row of the previous one, so a
deep page costs what the first does, and no page counts the whole table."""

from __future__ import annotations

import base64
import binascii
import json
from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Any

from django.db.models import Model, Q, QuerySet
from rest_framework.exceptions import ValidationError
from rest_framework.pagination import BasePagination
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.utils.urls import replace_query_param


class Keyset:
    """Order a queryset by (field, id) and cut it after a cursor; used by API and pages."""

    def __init__(self, allowed: Sequence[str], default: str, page_size: int = 50, max_page_size: int = 200):
        self.allowed = set(allowed)
        self.default = default
        self.page_size = page_size
        self.max_page_size = max_page_size

    def ordering(self, requested: str | None) -> str:
        requested = requested or self.default
        # removeprefix, not lstrip: "--score" is no ordering.
        if requested.removeprefix("-") not in self.allowed:
            raise ValidationError(
                {"ordering": [f"Sort by one of: {', '.join(sorted(self.allowed))} (prefix - for descending)."]}
            )
        return requested

    def size(self, requested: str | None) -> int:
        if requested in (None, ""):
            return self.page_size
        try:
            size = int(requested)
        except ValueError:
            raise ValidationError({"page_size": ["A whole number is required."]}) from None
        if not 1 <= size <= self.max_page_size:
            raise ValidationError({"page_size": [f"Between 1 and {self.max_page_size}."]})
        return size

    def page(self, queryset: QuerySet, ordering: str, cursor: str | None, size: int) -> tuple[list[Model], str | None]:
        """One page of rows and the cursor of the next page (None on the last)."""
        field = ordering.removeprefix("-")
        descending = ordering.startswith("-")
        queryset = queryset.order_by(ordering, "-id" if descending else "id")
        if cursor:
            value, last_id = self._decode(cursor, queryset.model, field)
            queryset = after(queryset, field, value, last_id, descending)
        rows = list(queryset[: size + 1])
        if len(rows) <= size:
            return rows, None
        rows = rows[:size]
        last = rows[-1]
        if isinstance(last, dict):  # a values() queryset
            return rows, self._encode(last[field], last["id"])
        return rows, self._encode(getattr(last, field), last.pk)

    @staticmethod
    def _encode(value: Any, pk: int) -> str:
        if hasattr(value, "isoformat"):
            value = value.isoformat()
        raw = json.dumps([value, pk]).encode()
        return base64.urlsafe_b64encode(raw).decode().rstrip("=")

    @staticmethod
    def _decode(cursor: str, model: type[Model], field: str) -> tuple[Any, int]:
        try:
            raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4))
            value, pk = json.loads(raw)
            value = model._meta.get_field(field).to_python(value)
            if not isinstance(pk, int) or value is None:
                raise ValueError
            # Values no database compares against: text with NUL or a lone surrogate,
            # datetimes that overflow on conversion to UTC.
            if isinstance(value, str):
                value.encode()  # UnicodeEncodeError on a lone surrogate
                if "\x00" in value:
                    raise ValueError
            if isinstance(value, datetime):
                value.astimezone(UTC)  # OverflowError at the ends of the calendar
        except (ValueError, TypeError, binascii.Error, UnicodeDecodeError, Exception):
            raise ValidationError({"cursor": ["This cursor is not valid for this list."]}) from None
        return value, pk


class KeysetPagination(BasePagination):
    """DRF side of Keyset. A view declares `ordering_fields` and `ordering`."""

    def paginate_queryset(self, queryset: QuerySet, request: Request, view: Any = None) -> list[Model]:
        keyset = Keyset(getattr(view, "ordering_fields", ["id"]), getattr(view, "ordering", "id"))
        ordering = keyset.ordering(request.query_params.get("ordering"))
        size = keyset.size(request.query_params.get("page_size"))
        rows, self.next_cursor = keyset.page(queryset, ordering, request.query_params.get("cursor"), size)
        self.request = request
        return rows

    def get_paginated_response(self, data: Any) -> Response:
        next_url = None
        if self.next_cursor:
            next_url = replace_query_param(self.request.build_absolute_uri(), "cursor", self.next_cursor)
        return Response({"next": next_url, "results": data})

    def get_paginated_response_schema(self, schema: dict[str, Any]) -> dict[str, Any]:
        return {
            "type": "object",
            "required": ["results"],
            "properties": {"next": {"type": "string", "nullable": True, "format": "uri"}, "results": schema},
        }

    def get_schema_operation_parameters(self, view: Any) -> list[dict[str, Any]]:
        return [
            {"name": "cursor", "required": False, "in": "query", "schema": {"type": "string"},
             "description": "The `next` link's cursor."},
            {"name": "page_size", "required": False, "in": "query",
             "schema": {"type": "integer", "minimum": 1, "maximum": 200}},
            {"name": "ordering", "required": False, "in": "query", "schema": {"type": "string"},
             "description": f"One of {', '.join(getattr(view, 'ordering_fields', ['id']))}, '-' for descending."},
        ]


def after(queryset: QuerySet, field: str, value: Any, last_id: int, descending: bool = False) -> QuerySet:
    """The rows after (value, last_id) in (field, id) order: the keyset step of pages and of
    the jobs' batches. The plain bound (field >= value) is implied by the OR, but only it
    lets the index scan start at the cursor; without it a deep page walks every row before."""
    op = "lt" if descending else "gt"
    return queryset.filter(**{f"{field}__{op}e": value}).filter(
        Q(**{f"{field}__{op}": value}) | Q(**{field: value, f"id__{op}": last_id}))
