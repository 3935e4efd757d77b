"""The Celery app, and `enqueue()`, by which services hand work to a worker."""

import logging
import os
from typing import Any

from celery import Celery
from celery.worker.consumer.consumer import Consumer
from django.db import transaction
from kombu.exceptions import OperationalError

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "sdrcrm.settings")

log = logging.getLogger(__name__)
app = Celery("sdrcrm")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()


_on_connection_error_after_connected = Consumer.on_connection_error_after_connected


def on_connection_error_after_connected(consumer: Consumer, exc: Exception) -> None:
    """Celery 5.7.0 closes the broken broker connection here; with unacknowledged messages
    held, kombu's Redis transport then raises AttributeError (its client is already gone),
    which `ignore_errors` does not catch, and the consumer stops for good: the worker stays
    up but takes no more tasks after a Redis outage. The connection has been dropped by
    then (`consumer.connection` is None), so the restart that follows reconnects; the
    unacknowledged messages come back from Redis after its visibility timeout."""
    try:
        _on_connection_error_after_connected(consumer, exc)
    except AttributeError:
        log.warning("Closing the broken broker connection failed; reconnecting anyway.", exc_info=True)
        consumer.connection = None


Consumer.on_connection_error_after_connected = on_connection_error_after_connected


def ensure_filesystem_broker_folders() -> None:
    """The filesystem transport needs its folders before a worker or client starts."""
    from django.conf import settings

    if str(app.conf.broker_url).startswith("filesystem"):
        for key in ("data_folder_in", "data_folder_out", "processed_folder", "control_folder"):
            folder = settings.CELERY_BROKER_TRANSPORT_OPTIONS.get(key)
            if folder:
                os.makedirs(folder, exist_ok=True)
    backend = str(settings.CELERY_RESULT_BACKEND)
    if backend.startswith("file://"):
        os.makedirs(backend.removeprefix("file://"), exist_ok=True)


def enqueue(task: str, *args: Any, on_commit: bool = True) -> None:
    """Run the Celery task named `task` with `args` once the current transaction commits
    (`on_commit=False`: now, for work whose rows were committed long ago).

    Services name the task rather than import it: the task modules are a face over the
    services (they call them), so importing them back would close a cycle. Every app's
    `ready()` imports its task module, so the name is known in every process; an unknown
    name fails here, at once, with a KeyError naming it.
    """
    task_object = app.tasks[task]

    def send() -> None:
        try:
            task_object.delay(*args)
        except OperationalError as exc:
            # The broker is down. The work is not lost: what it would do is stored (a
            # sequence event unapplied, a re-score's progress), and the jobs that look for
            # stranded work send it again once the broker is back.
            log.warning("%s%r not enqueued, the broker is not answering: %s", task, args, exc)

    if on_commit:
        transaction.on_commit(send)
    else:
        send()


def requeue(stranded: Any, task: str, now: Any) -> int:
    """Send `task` again for each row of `stranded` (a queryset of a model with a
    `requeued_at`, of rows whose task was lost with a worker or a broker), JOB_BATCH_SIZE
    rows a transaction, keyset by id: each batch stamps `requeued_at` with `now` and is
    enqueued once it commits, so a job resumed after its own worker died sends what it had
    not sent, not the whole backlog twice. Returns how many were sent."""
    from django.conf import settings

    requeued, cursor = 0, 0
    while True:
        with transaction.atomic():
            ids = list(stranded.filter(id__gt=cursor).order_by("id").values_list("id", flat=True)
                       [:settings.JOB_BATCH_SIZE])
            if not ids:
                return requeued
            stranded.model._base_manager.filter(id__in=ids).update(requeued_at=now)
            for pk in ids:
                enqueue(task, pk)
        requeued += len(ids)
        cursor = ids[-1]
