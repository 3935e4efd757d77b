"""Periodic jobs of scoring."""

from __future__ import annotations

from datetime import datetime

from sdrcrm.celery import enqueue

from . import services
from .models import ScoringRuleChange


def requeue_stalled_rescores(now: datetime) -> dict[str, int]:
    """`rescores` (every minute): a rule change's re-score that made no progress for
    RESCORE_REQUEUE_AFTER_SECONDS lost its task (a killed worker): send it again. Doing
    so twice is harmless: batches take turns on the change's row."""
    ids = services.stalled_rescores(now)
    for change_id in ids:
        enqueue("scoring.tasks.rescore_people", change_id, on_commit=False)
    ScoringRuleChange.objects.filter(pk__in=ids).update(progressed_at=now)  # not again before it had a chance
    return {"requeued": len(ids)}
