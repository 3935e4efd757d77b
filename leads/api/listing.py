"""The rows of the lead list (GET leads/) and of a recorded activity (POST leads/,
POST activities/), built without their serializers.

LeadSerializer(many=True) renders a page of 50 leads field by field through DRF, which
cost more than half of a list request's CPU (the SDR views' p95 was over its 100 ms
target), and building ActivitySerializer's fields for the one activity an ingest answers
with cost 7 % of an ingested lead's CPU. Every field they show is a plain column, so the
same dicts are read straight off the rows here. They must stay equal to the serializers'
output, key for key and format for format: tests/leads/test_lean_list.py compares them.
"""
from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime, tzinfo
from typing import Any

from django.db import models
from django.utils import timezone
from rest_framework import serializers

from leads.models import Activity, Lead

from .serializers import ActivitySerializer, LeadSerializer

Column = tuple[str, str, bool]  # key, attribute, is a datetime


def columns_of(serializer: type[serializers.ModelSerializer], sources: dict[str, str] | None = None) -> list[Column]:
    """(key, attribute, is a datetime) for each of a ModelSerializer's fields, in its
    order. `sources`: the fields named other than their column. Related fields render as
    their id, so the attribute is the `_id` column."""
    columns = []
    for key in serializer.Meta.fields:
        # A field that is no column (a SerializerMethodField, say) fails here: render it
        # below too, and add it to the test's comparison.
        field = serializer.Meta.model._meta.get_field((sources or {}).get(key, key))
        columns.append((key, field.attname, isinstance(field, models.DateTimeField)))
    return columns


COLUMNS = columns_of(LeadSerializer, {"matched_account": "account"})
ACTIVITY_COLUMNS = columns_of(ActivitySerializer)
# What the list reads of each lead: the values() of these skip building model instances.
ATTNAMES = list(dict.fromkeys(["id", *(attname for _, attname, _ in COLUMNS)]))


def render_datetime(value: datetime, zone: tzinfo) -> str:
    """DRF's DateTimeField with USE_TZ: in the current time zone, ISO 8601, UTC as "Z"."""
    text = timezone.localtime(value, zone).isoformat()
    return text[:-6] + "Z" if text.endswith("+00:00") else text


def render_rows(columns: list[Column], records: Iterable[Any]) -> list[dict[str, Any]]:
    """What the serializer of `columns` renders of each record, as plain dicts.
    `records`: model instances, or rows of `values()` with every column's attribute."""
    zone = timezone.get_current_timezone()
    rows = []
    for record in records:
        values = record if isinstance(record, dict) else vars(record)
        row = {}
        for key, attname, is_datetime in columns:
            value = values[attname]
            row[key] = render_datetime(value, zone) if is_datetime and value is not None else value
        rows.append(row)
    return rows


def render_leads(leads: Iterable[Lead | dict[str, Any]]) -> list[dict[str, Any]]:
    """What LeadSerializer(leads, many=True).data holds. `leads`: model instances, or
    rows of `values(*ATTNAMES)`."""
    return render_rows(COLUMNS, leads)


def render_activity(activity: Activity) -> dict[str, Any]:
    """What ActivitySerializer(activity).data holds."""
    return render_rows(ACTIVITY_COLUMNS, [activity])[0]
