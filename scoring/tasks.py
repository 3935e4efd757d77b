from __future__ import annotations

from celery import shared_task
from django.conf import settings
from django.db import OperationalError, transaction

from leads import services as lead_services
from leads.models import Lead

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
    rules = services.load_rules()
    with transaction.atomic():
        for lead in Lead.objects.filter(pk__in=ids).order_by("pk"):
            services.rescore(lead, rules=rules)
            if lead.status in lead_services.MQL_FROM and lead.score >= settings.MQL_THRESHOLD:
                lead_services.promote_to_mql(lead)
    if len(ids) == RESCORE_BATCH:
        rescore_people.delay(activity_type=activity_type, after_id=ids[-1])
    return len(ids)
