"""Periodic jobs of scoring."""

from __future__ import annotations

from datetime import datetime

from django.db import transaction

from sdrcrm.celery import enqueue

from . import services


def requeue_stalled_rescores(now: datetime) -> dict[str, int]:
    """`rescores` (every minute): a rule change's re-score that made no progress for
    RESCORE_REQUEUE_AFTER_SECONDS lost its task (a killed worker): send it again. Each
    change is claimed (its `progressed_at` set to now, so not again before it had a
    chance) and sent once the claim commits; a run resumed after its own worker died
    sends only the changes it had not claimed. Sending one twice is harmless anyway:
    batches take turns on the change's row."""
    requeued = 0
    for change_id in services.stalled_rescores(now):
        with transaction.atomic():
            if services.claim_stalled_rescore(change_id, now):
                enqueue("scoring.tasks.rescore_people", change_id)
                requeued += 1
    return {"requeued": requeued}
