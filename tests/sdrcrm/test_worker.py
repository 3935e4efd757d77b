"""A real Celery worker process consumes a task from Redis and writes to PostgreSQL."""

from __future__ import annotations

import os
import subprocess
import sys
import uuid
from datetime import timedelta

import pytest
from django.conf import settings
from django.utils import timezone

from leads.models import Lead
from sdrcrm.celery import app
from sdrcrm.models import JobRun
from sdrcrm.tasks import run_job_task
from tests.conftest import database_url, require_worker_stack
from tests.factories import LeadFactory

pytestmark = [pytest.mark.worker, pytest.mark.django_db(transaction=True), pytest.mark.usefixtures("seeded")]


@pytest.fixture
def worker():
    """Start `celery worker` on a queue of its own, against the test database."""
    require_worker_stack()
    queue = f"test-{uuid.uuid4().hex[:8]}"
    env = {**os.environ, "DATABASE_URL": database_url(), "REDIS_URL": settings.REDIS_URL,
           "CELERY_TASK_ALWAYS_EAGER": "false"}
    process = subprocess.Popen(
        [sys.executable, "-m", "celery", "-A", "sdrcrm", "worker", "-Q", queue, "--concurrency=1",
         "--loglevel=WARNING", "--without-gossip", "--without-mingle", "--without-heartbeat"],
        env=env, cwd=settings.BASE_DIR,
    )
    app.conf.task_always_eager = False
    try:
        yield queue
    finally:
        process.terminate()
        try:
            process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            process.kill()


def test_a_real_worker_runs_the_active_passive_job(worker):
    now = timezone.now()
    ended = LeadFactory(is_passive=False, active_until=now - timedelta(minutes=5))
    still_active = LeadFactory(is_passive=False, active_until=now + timedelta(days=3))

    result = run_job_task.apply_async(args=("active_passive", now.isoformat()), queue=worker, ignore_result=False)
    outcome = result.get(timeout=60)

    assert outcome["state"] == JobRun.State.SUCCEEDED
    assert outcome["counts"] == {"passive": 1}
    assert Lead.objects.get(pk=ended.pk).is_passive is True
    assert Lead.objects.get(pk=still_active.pk).is_passive is False
    assert JobRun.objects.get(name="active_passive").state == JobRun.State.SUCCEEDED


def test_a_real_worker_runs_a_bulk_action_and_records_its_progress(worker):
    from leads.models import BulkAction, Status
    from leads.tasks import run_bulk_action
    from sdrcrm.models import Role
    from tests.factories import UserFactory

    ops = UserFactory(role=Role.OPS)
    leads = LeadFactory.create_batch(130, status=Status.MQL)  # two chunks of progress
    bulk = BulkAction.objects.create(kind="status", params={"status": "recycle", "reason": "evaluating"},
                                     summary="Status to Recycle (Evaluating)", by=ops, total=130,
                                     record_ids=[lead.pk for lead in leads])

    run_bulk_action.apply_async(args=(bulk.pk,), queue=worker, ignore_result=False).get(timeout=120)

    bulk.refresh_from_db()
    assert (bulk.state, bulk.done, bulk.refused, len(bulk.results)) == ("finished", 130, 0, 130)
    assert set(Lead.objects.filter(pk__in=bulk.record_ids).values_list("status", flat=True)) == {"recycle"}


def test_a_real_worker_runs_an_import_batch_by_batch(worker):
    """A checked import of 1,200 rows (three batches): the worker ingests them, each with
    its progress, and the import ends finished with its counts."""
    from leads.models import Import, ImportRow
    from leads.tasks import run_import
    from sdrcrm.models import Role
    from tests.factories import UserFactory

    ops = UserFactory(role=Role.OPS)
    record = Import.objects.create(file_name="leads.csv", sha256="0" * 64, size=1, rows=1200, good=1200,
                                   state=Import.State.QUEUED, created_by=ops, headers=["email", "last name"],
                                   mapping={"email": "email", "last name": "last_name"})
    ImportRow.objects.bulk_create([
        ImportRow(batch=record, line=n + 2, data={"email": f"p{n}@firm{n % 9}.com", "last_name": f"Doe{n}",
                                                  "initial_source": "webcast"}) for n in range(1200)])

    run_import.apply_async(args=(record.pk,), queue=worker, ignore_result=False).get(timeout=240)

    record.refresh_from_db()
    assert (record.state, record.rows_done, record.created, record.rejected, record.percent) == (
        "finished", 1200, 1200, 0, 100)
    assert Lead.objects.filter(email__endswith=".com", last_name__startswith="Doe").count() == 1200
    assert not ImportRow.objects.filter(batch=record, result="").exists()  # every row run


def test_a_real_worker_delivers_a_webhook_signed(worker):
    from sdrcrm import webhooks
    from sdrcrm.models import WebhookDelivery, WebhookEndpoint, WebhookEvent
    from sdrcrm.tasks import deliver_webhook
    from tests.sdrcrm.test_webhooks import Receiver

    receiver = Receiver()
    try:
        endpoint = WebhookEndpoint.objects.create(url=receiver.url, secret="s" * 32, events=["lead.created"])
        event = WebhookEvent.objects.create(kind="lead.created", payload={"id": 1, "email": "ana@initech.com"})
        delivery = WebhookDelivery.objects.create(event=event, endpoint=endpoint, next_attempt_at=timezone.now())

        assert deliver_webhook.apply_async(args=(delivery.pk,), queue=worker,
                                           ignore_result=False).get(timeout=60) == "delivered"

        [sent] = receiver.received
        assert sent["headers"]["X-Event-Id"] == str(event.id)
        assert sent["headers"]["X-Signature"] == webhooks.sign("s" * 32, sent["headers"]["X-Timestamp"],
                                                               sent["body"])
        assert WebhookDelivery.objects.get(pk=delivery.pk).state == "delivered"
    finally:
        receiver.close()
