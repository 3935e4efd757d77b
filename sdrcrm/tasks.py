from __future__ import annotations

from celery import shared_task
from django.db import OperationalError
from django.utils.dateparse import parse_datetime

from . import jobs, webhooks


@shared_task(acks_late=True, autoretry_for=(OperationalError,), retry_backoff=True, max_retries=5)
def run_job_task(name: str, now: str | None = None, by: int | None = None) -> dict:
    """Beat calls this with the job name only; the slot is the minute it runs in. "Run
    now" sends the minute it was asked in and who asked."""
    run = jobs.run_job(name, parse_datetime(now) if now else None, by=by)
    return {"id": run.pk, "state": run.state, "counts": run.counts}


# The hard time limit bounds a try (a receiver that answers a byte at a time would pass
# every socket timeout), so a claim that has lapsed belongs to a try that is over.
@shared_task(acks_late=True, autoretry_for=(OperationalError,), retry_backoff=True, max_retries=5,
             time_limit=webhooks.attempt_time_limit())
def deliver_webhook(delivery_id: int) -> str:
    """Try a webhook delivery; when the try failed and there is time left, come back when
    it is due (webhooks.deliver records when). A copy of the task come early, or one that
    finds the try claimed by another worker, tries nothing and schedules nothing, so
    retries never multiply."""
    delivery = webhooks.deliver(delivery_id)
    if delivery is None:
        return "not due"
    if delivery.state == delivery.State.PENDING:
        deliver_webhook.apply_async(args=(delivery_id,), eta=delivery.next_attempt_at)
    return delivery.state
