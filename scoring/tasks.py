from __future__ import annotations

from celery import shared_task
from django.db import OperationalError

from leads import lifecycle

from . import services

RESCORE_BATCH = 1000


@shared_task(acks_late=True, autoretry_for=(OperationalError,), retry_backoff=True, max_retries=5)
def rescore_people(activity_type: str = "", after_id: int = 0) -> int:
    """Re-score one batch of the leads a rule change touches, then queue the next batch.
    Re-scoring may make a lead MQL; it never takes MQL away. A re-run is harmless:
    rescore only writes what differs."""
    ids = services.people_to_rescore(activity_type, after_id, RESCORE_BATCH)
    if not ids:
        return 0
    lifecycle.rescore_leads(ids, services.load_rules())
    if len(ids) == RESCORE_BATCH:
        rescore_people.delay(activity_type=activity_type, after_id=ids[-1])
    return len(ids)
