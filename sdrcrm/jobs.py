"""The job runner shared by Celery beat and `manage.py run_job`: one JobRun per job and
slot, so a second run for the same slot is a no-op."""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import datetime, timedelta

from django.conf import settings
from django.db import IntegrityError, transaction
from django.db.models import Max, QuerySet, Subquery
from django.utils import timezone

from leads import imports as lead_imports
from leads import jobs as lead_jobs
from leads import queues as lead_queues
from leads import spam as lead_spam
from leads import trash as lead_trash
from opportunities import jobs as opportunity_jobs
from routing import jobs as routing_jobs
from scoring import jobs as scoring_jobs

from . import idempotency, webhooks
from .celery import enqueue
from .errors import Refused
from .models import JobRun, User

log = logging.getLogger(__name__)


def prune_history(now: datetime) -> dict[str, int]:
    """`history_prune` (nightly): job runs started JOB_RUNS_KEPT_DAYS ago go, except each
    job's latest (the jobs page shows it) and runs still running; then the rows of old
    imports (leads.imports.clear_old_rows)."""
    cutoff = now - timedelta(days=settings.JOB_RUNS_KEPT_DAYS)
    runs, _ = (JobRun.objects.filter(started_at__lt=cutoff).exclude(state=JobRun.State.RUNNING)
               .exclude(id__in=Subquery(_last_run_ids())).delete())
    return {"job_runs_deleted": runs, **lead_imports.clear_old_rows(now)}


def _last_run_ids() -> QuerySet[JobRun]:
    """The id of each job's latest run (a subquery)."""
    return JobRun.objects.order_by().values("name").annotate(last=Max("id")).values("last")


JOBS: dict[str, Callable[[datetime], dict[str, int]]] = {
    "active_passive": lead_jobs.expire_active_windows,
    "sla_breaches": routing_jobs.check_sla,
    "inquiry_queue": lead_jobs.queue_inquiries,
    "spam_deletion": lead_spam.delete_marked_spam,
    "targeted_accounts": lead_jobs.unflag_quiet_accounts,
    "unresponsive": lead_jobs.follow_up_unresponsive,
    "sequence_events": lead_jobs.requeue_stranded_events,
    "stale_opportunities": opportunity_jobs.stale_opportunities,
    "idempotency_keys": idempotency.delete_expired,
    "rescores": scoring_jobs.requeue_stalled_rescores,
    "queue_counts": lead_queues.count_queues,
    "webhook_deliveries": webhooks.requeue_stranded,
    "trash_purge": lead_trash.purge_expired,
    "history_prune": prune_history,
}


def run_now(name: str, by: User) -> None:
    """Ops start a job by hand (the jobs page's "Run now"): a worker runs it for the
    current minute, recorded with who asked; a slot that ran already is not run twice."""
    if not by.is_ops:
        raise Refused("Only Sales-Dev Ops run a job by hand.", status=403)
    if name not in JOBS:
        raise Refused(f"Unknown job '{name}'; one of: {', '.join(sorted(JOBS))}.", field="name", status=404)
    enqueue("sdrcrm.tasks.run_job_task", name, timezone.now().isoformat(), by.pk, on_commit=False)


def run_job(name: str, now: datetime | None = None, by: int | None = None) -> JobRun:
    """Run job `name` for the slot `now` (to the minute), unless that slot already ran;
    `by`: the id of the user who ran it by hand."""
    if name not in JOBS:
        raise Refused(f"Unknown job '{name}'; one of: {', '.join(sorted(JOBS))}.", field="name")
    slot = (now or timezone.now()).replace(second=0, microsecond=0)
    stale = timezone.now() - timedelta(seconds=settings.JOB_STALE_AFTER_SECONDS)
    try:
        with transaction.atomic():
            run = JobRun.objects.create(name=name, slot=slot, started_by_id=by)
            # A beat task redelivered after its worker died runs in a later minute, so
            # under a new slot: the earlier run, still "running", is closed as failed.
            JobRun.objects.filter(name=name, state=JobRun.State.RUNNING, started_at__lt=stale).exclude(
                pk=run.pk).update(state=JobRun.State.FAILED, finished_at=timezone.now(),
                                  errors=f"Its worker stopped before it finished; the run of {slot:%Y-%m-%d %H:%M} "
                                         "UTC took over.")
    except IntegrityError:
        with transaction.atomic():
            existing = JobRun.objects.select_for_update().get(name=name, slot=slot)
            # A run still "running" long after it started died with its worker (SIGKILL,
            # OOM): the redelivered task takes the slot over. Jobs are safe to re-run.
            died = existing.state == JobRun.State.RUNNING and existing.started_at < stale
            if existing.state != JobRun.State.FAILED and not died:
                return existing  # this slot ran (or is running): nothing new to do
            existing.state, existing.errors, existing.started_at = JobRun.State.RUNNING, "", timezone.now()
            existing.save(update_fields=["state", "errors", "started_at"])
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


def latest_runs() -> list[tuple[str, JobRun | None]]:
    """Every job with its latest run (None: never ran), by name; one query."""
    latest = {run.name: run for run in JobRun.objects.filter(id__in=Subquery(_last_run_ids()))}
    return [(name, latest.get(name)) for name in sorted(JOBS)]
