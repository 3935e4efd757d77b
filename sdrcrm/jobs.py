"""The job runner shared by Celery beat and `manage.py run_job`: one JobRun per job and
slot, so a second run for the same slot is a no-op."""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import datetime

from django.db import IntegrityError, transaction
from django.utils import timezone

from leads import jobs as lead_jobs
from routing import jobs as routing_jobs

from .errors import Refused
from .models import JobRun

log = logging.getLogger(__name__)

JOBS: dict[str, Callable[[datetime], dict[str, int]]] = {
    "active_passive": lead_jobs.expire_active_windows,
    "sla_breaches": routing_jobs.check_sla,
}


def run_job(name: str, now: datetime | None = None) -> JobRun:
    """Run job `name` for the slot `now` (to the minute), unless that slot already ran."""
    if name not in JOBS:
        raise Refused(f"Unknown job '{name}'; one of: {', '.join(sorted(JOBS))}.", field="name")
    slot = (now or timezone.now()).replace(second=0, microsecond=0)
    try:
        with transaction.atomic():
            run = JobRun.objects.create(name=name, slot=slot)
    except IntegrityError:
        existing = JobRun.objects.get(name=name, slot=slot)
        if existing.state != JobRun.State.FAILED:
            return existing  # this slot ran (or is running): nothing new to do
        existing.state, existing.errors = JobRun.State.RUNNING, ""
        existing.save(update_fields=["state", "errors"])
        run = existing
    try:
        counts = JOBS[name](now or slot)
    except Exception as exc:
        log.exception("job %s failed", name)
        JobRun.objects.filter(pk=run.pk).update(
            state=JobRun.State.FAILED, finished_at=timezone.now(), errors=repr(exc)
        )
        raise
    JobRun.objects.filter(pk=run.pk).update(
        state=JobRun.State.SUCCEEDED, finished_at=timezone.now(), counts=counts
    )
    run.refresh_from_db()
    return run
