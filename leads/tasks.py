"""Celery tasks for leads: ids in, a quiet exit when there is nothing to do, then a
service call (the work and its idempotency live in the service)."""

from __future__ import annotations

from celery import shared_task
from django.db import OperationalError

from . import bulk_actions, imports, sequences
from .models import SequenceEvent


@shared_task(acks_late=True, autoretry_for=(OperationalError,), retry_backoff=True, max_retries=5)
def apply_sequence_event(event_id: int) -> None:
    """Apply a stored sequence event. Safe to deliver twice: apply_event re-checks
    `applied_at` under a row lock in the transaction that applies it."""
    if not SequenceEvent.objects.filter(pk=event_id, applied_at=None).exists():
        return  # gone, or already applied
    sequences.apply_event(event_id)


@shared_task(acks_late=True, autoretry_for=(OperationalError,), retry_backoff=True, max_retries=5)
def run_bulk_action(bulk_id: int) -> None:
    """Apply a bulk action to its rows not done yet (bulk_actions.run resumes after the
    last row a lost worker recorded)."""
    bulk_actions.run(bulk_id)


@shared_task(acks_late=True, autoretry_for=(OperationalError,), retry_backoff=True, max_retries=5)
def run_import(import_id: int) -> None:
    """Run an import's rows not run yet (imports.execute resumes after the last batch a
    lost worker committed)."""
    imports.execute(import_id)
