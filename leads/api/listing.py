"""The rows of the lead list (GET leads/), built without LeadSerializer.

LeadSerializer(many=True) renders a page of 50 leads field by field through DRF, which
cost more than half of a list request's CPU (the SDR views' p95 was over its 100 ms
target). Every field it shows is a plain column, so the same dicts are read straight off
the rows here. They must stay equal to LeadSerializer's output, key for key and format for
format: tests/leads/test_lean_list.py compares the two.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime, tzinfo
from typing import Any

from django.db import models
from django.utils import timezone

from leads.models import Lead

from .serializers import LeadSerializer

# LeadSerializer fields named other than their column (their `source`).
SOURCES = {"matched_account": "account"}


def lead_columns() -> list[tuple[str, str, bool]]:
    """(key, attribute, is a datetime) for each LeadSerializer field, in its order.
    Related fields render as their id, so the attribute is the `_id` column."""
    columns = []
    for key in LeadSerializer.Meta.fields:
        # A field that is no column (a SerializerMethodField, say) fails here: render it
        # below too, and add it to the test's comparison.
        field = Lead._meta.get_field(SOURCES.get(key, key))
        columns.append((key, field.attname, isinstance(field, models.DateTimeField)))
    return columns


COLUMNS = lead_columns()
# What the list reads of each lead: the values() of these skip building model instances.
ATTNAMES = list(dict.fromkeys(["id", *(attname for _, attname, _ in COLUMNS)]))


def render_datetime(value: datetime, zone: tzinfo) -> str:
    """DRF's DateTimeField with USE_TZ: in the current time zone, ISO 8601, UTC as "Z"."""
    text = timezone.localtime(value, zone).isoformat()
    return text[:-6] + "Z" if text.endswith("+00:00") else text


def render_leads(leads: Iterable[Lead | dict[str, Any]]) -> list[dict[str, Any]]:
    """What LeadSerializer(leads, many=True).data holds, as plain dicts. `leads`: model
    instances, or rows of `values(*ATTNAMES)`."""
    zone = timezone.get_current_timezone()
    rows = []
    for lead in leads:
        values = lead if isinstance(lead, dict) else vars(lead)
        row = {}
        for key, attname, is_datetime in COLUMNS:
            value = values[attname]
            row[key] = render_datetime(value, zone) if is_datetime and value is not None else value
        rows.append(row)
    return rows
