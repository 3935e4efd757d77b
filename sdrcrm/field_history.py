"""Field history (docs/rules.md §11, data): which field of a lead, contact, account or opportunity
an edit changed, from what to what, by whom and when. The edit services take the values
before (`values_of`) and record what differs after (`record`). Status and stage changes
have their own histories, routing its decisions and scores their ledger."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date, datetime
from typing import Any

from django.db import models
from django.utils import timezone

from .models import FieldChange, User


def values_of(record: models.Model, names: Iterable[str]) -> dict[str, Any]:
    """The current values of these fields (ids for foreign keys), by field name."""
    meta = record._meta
    return {name: getattr(record, meta.get_field(name).attname) for name in names}


def record(obj: models.Model, before: dict[str, Any], by: User | None, at: datetime | None = None) -> None:
    """One FieldChange per field of `before` whose value differs on `obj` now."""
    after = values_of(obj, before)
    at = at or timezone.now()
    FieldChange.objects.bulk_create([
        FieldChange(record=obj._meta.model_name, record_id=obj.pk, field=name, old=_text(old),
                    new=_text(after[name]), by=by, at=at)
        for name, old in before.items() if old != after[name]
    ])


def changes_of(obj: models.Model) -> models.QuerySet[FieldChange]:
    """The record's field changes, newest first."""
    return (FieldChange.objects.filter(record=obj._meta.model_name, record_id=obj.pk)
            .select_related("by").order_by("-at", "-id"))


def _text(value: Any) -> str | None:
    if value is None:
        return None
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, datetime | date):
        return value.isoformat()
    return str(value)
