from __future__ import annotations

from celery import shared_task
from django.db import OperationalError

from leads import lifecycle

RESCORE_BATCH = 1000


@shared_task(acks_late=True, autoretry_for=(OperationalError,), retry_backoff=True, max_retries=5)
def rescore_people(change_id: int) -> None:
    """Re-score one batch of the leads a scoring-rule change touches, then queue the next.
    Re-scoring may make a lead MQL; it never takes MQL away. Progress is kept on the
    change, so a lost task is sent again by the `rescores` job and goes on from there."""
    if lifecycle.rescore_change_batch(change_id, RESCORE_BATCH):
        rescore_people.delay(change_id)
