"""Periodic jobs on leads. Each takes `now`, works in batches of JOB_BATCH_SIZE rows per
transaction, returns its counts, and does nothing new when run again for the same `now`."""

from __future__ import annotations

from datetime import datetime

from django.conf import settings
from django.db import transaction

from .models import Lead


def expire_active_windows(now: datetime) -> dict[str, int]:
    """`active_passive`: leads whose active window ended become passive (outbound may
    then target them)."""
    batch = settings.JOB_BATCH_SIZE
    passive = 0
    while True:
        # Rows leave the partial index as they are updated, so each batch starts afresh.
        ids = list(
            Lead.objects.filter(is_passive=False, active_until__lte=now)
            .order_by("active_until", "id")
            .values_list("id", flat=True)[:batch]
        )
        if not ids:
            return {"passive": passive}
        with transaction.atomic():
            passive += Lead.objects.filter(id__in=ids, is_passive=False).update(is_passive=True)
