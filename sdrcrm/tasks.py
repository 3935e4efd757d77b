from __future__ import annotations

from celery import shared_task
from django.db import OperationalError
from django.utils.dateparse import parse_datetime

from . import jobs


@shared_task(acks_late=True, autoretry_for=(OperationalError,), retry_backoff=True, max_retries=5)
def run_job_task(name: str, now: str | None = None, by: int | None = None) -> dict:
    """Beat calls this with the job name only; the slot is the minute it runs in. "Run
    now" sends the minute it was asked in and who asked."""
    run = jobs.run_job(name, parse_datetime(now) if now else None, by=by)
    return {"id": run.pk, "state": run.state, "counts": run.counts}
