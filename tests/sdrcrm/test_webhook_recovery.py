"""Webhook deliveries are at least once, with the same event id (docs/rules.md §10.1): a
try is claimed on its row, so two workers never make the same try; a try whose worker
died leaves a claim that lapses, and the `webhook_deliveries` job sends its task again,
long before Redis would give the lost message back. A real worker SIGKILLed in the middle
of a POST: a new worker delivers the event again, with the same id, within seconds."""

from __future__ import annotations

import threading
import time
from datetime import timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest
from celery.schedules import crontab
from django.utils import timezone

from sdrcrm import webhooks
from sdrcrm.jobs import JOBS
from sdrcrm.models import JobRun, WebhookDelivery, WebhookEndpoint, WebhookEvent
from sdrcrm.tasks import deliver_webhook, run_job_task
from tests.sdrcrm.test_webhooks import Receiver
from tests.workers import workers_for

SECOND = timedelta(seconds=1)


@pytest.fixture
def receiver():
    server = Receiver()
    yield server
    server.close()


def make_delivery(url: str, due_ago: timedelta = timedelta(0), **fields) -> WebhookDelivery:
    endpoint = WebhookEndpoint.objects.create(url=url, secret="s" * 32, events=["lead.created"])
    event = WebhookEvent.objects.create(kind="lead.created", payload={"id": 1})
    return WebhookDelivery.objects.create(event=event, endpoint=endpoint, next_attempt_at=timezone.now() - due_ago,
                                          **fields)


@pytest.mark.django_db
def test_a_try_claimed_by_another_worker_is_not_made_again_until_its_claim_lapses(receiver, settings):
    settings.WEBHOOK_REQUEUE_AFTER_SECONDS = 60
    now = timezone.now()
    delivery = make_delivery(receiver.url, claimed_at=now - 59 * SECOND, attempts=1)

    assert webhooks.deliver(delivery.pk, now=now) is None  # under way elsewhere
    assert receiver.received == []

    tried = webhooks.deliver(delivery.pk, now=now + SECOND)  # the claim is a minute old: its worker died
    assert (tried.state, tried.attempts, tried.claimed_at, tried.last_status) == ("delivered", 2, None, 200)
    assert len(receiver.received) == 1


@pytest.mark.django_db
def test_an_answer_that_comes_after_another_worker_took_the_try_over_is_not_recorded(receiver, monkeypatch):
    delivery = make_delivery(receiver.url)
    post = webhooks._post
    later = timezone.now() + timedelta(minutes=5)

    def slow_post(row: WebhookDelivery) -> tuple[int | None, str]:
        answer = post(row)
        # Meanwhile the claim lapsed and another worker claimed the try (and is making it).
        WebhookDelivery.objects.filter(pk=row.pk).update(claimed_at=later)
        return answer

    monkeypatch.setattr(webhooks, "_post", slow_post)
    assert webhooks.deliver(delivery.pk) is None

    delivery.refresh_from_db()
    assert (delivery.state, delivery.claimed_at, delivery.last_status) == ("pending", later, None)


@pytest.mark.django_db
def test_the_job_sends_again_deliveries_whose_task_was_lost_once_per_wait(
        receiver, settings, django_capture_on_commit_callbacks):
    settings.WEBHOOK_REQUEUE_AFTER_SECONDS = 60
    now = timezone.now()
    lost = make_delivery(receiver.url, due_ago=timedelta(minutes=10))  # never tried
    died = make_delivery(receiver.url, due_ago=timedelta(minutes=3), claimed_at=now - 2 * timedelta(minutes=1),
                         attempts=1)  # its worker was killed mid-try
    make_delivery(receiver.url, due_ago=30 * SECOND)  # its task is on its way
    make_delivery(receiver.url, due_ago=timedelta(minutes=3), claimed_at=now - 10 * SECOND)  # a try under way
    make_delivery(receiver.url, due_ago=timedelta(minutes=10), state="delivered")
    make_delivery(receiver.url, due_ago=-timedelta(minutes=4))  # the next retry is later

    with django_capture_on_commit_callbacks(execute=True):
        assert webhooks.requeue_stranded(now) == {"requeued": 2}

    assert len(receiver.received) == 2
    assert set(WebhookDelivery.objects.filter(state="delivered").values_list("pk", flat=True)) >= {lost.pk, died.pk}
    died.refresh_from_db()
    assert (died.attempts, died.claimed_at, died.requeued_at) == (2, None, now)
    WebhookDelivery.objects.filter(pk=lost.pk).update(state="pending", next_attempt_at=now - timedelta(minutes=10))
    assert webhooks.requeue_stranded(now + 30 * SECOND) == {"requeued": 0}  # sent 30 s ago: not again yet
    # A minute on: sent again, with the one that was on its way and the try then under way.
    assert webhooks.requeue_stranded(now + 61 * SECOND) == {"requeued": 3}


def test_the_job_runs_every_minute_through_the_runner(settings):
    entry = settings.CELERY_BEAT_SCHEDULE["webhook_deliveries"]
    assert entry["task"] == "sdrcrm.tasks.run_job_task" and entry["args"] == ("webhook_deliveries",)
    assert entry["schedule"] == crontab()  # every minute
    assert JOBS["webhook_deliveries"] is webhooks.requeue_stranded
    # A try is stopped (hard time limit) well before its claim lapses.
    assert deliver_webhook.time_limit == webhooks.attempt_time_limit() == settings.WEBHOOK_REQUEUE_AFTER_SECONDS // 2


class HangingReceiver:
    """Records every POST; the first one is never answered (until `close`), the others
    answer 200."""

    def __init__(self) -> None:
        self.received: list[dict] = []
        self.release = threading.Event()
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:  # noqa: N802 - http.server's name
                body = self.rfile.read(int(self.headers["Content-Length"]))
                receiver.received.append({"headers": dict(self.headers), "body": body})
                if len(receiver.received) == 1:
                    receiver.release.wait(120)
                    return
                self.send_response(200)
                self.end_headers()
                self.wfile.write(b"thanks")

            def log_message(self, *args) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.url = f"http://127.0.0.1:{self.server.server_port}/hooks"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def close(self) -> None:
        self.release.set()
        self.server.shutdown()
        self.server.server_close()


# A claim lapses after 10 s in the workers (their tries are stopped after 5 s); Redis would
# give the killed worker's message back only after 600 s, so nothing in this test comes
# from the broker's redelivery.
LAPSE = 10
WORKER_ENV = {"WEBHOOK_REQUEUE_AFTER_SECONDS": str(LAPSE)}
VISIBILITY = 600


@pytest.mark.worker
@pytest.mark.django_db(transaction=True)
@pytest.mark.usefixtures("seeded")
def test_a_worker_killed_mid_delivery_delivers_it_again_with_the_same_event_id(tmp_path: Path):
    receiver = HangingReceiver()
    try:
        delivery = make_delivery(receiver.url)
        event_id = str(delivery.event_id)
        with workers_for(tmp_path, "webhookkill") as workers:
            first = workers.start(VISIBILITY, concurrency=1, **WORKER_ENV)
            deliver_webhook.apply_async(args=(delivery.pk,), queue=workers.queue)
            workers.wait_for(lambda: len(receiver.received) == 1, 60, "the first try to reach the receiver")
            claimed = WebhookDelivery.objects.get(pk=delivery.pk)
            assert (claimed.state, claimed.attempts, claimed.last_status) == ("pending", 1, None)
            assert claimed.claimed_at is not None

            workers.kill(first)  # in the middle of the POST, the receiver still silent
            killed = time.monotonic()
            workers.start(VISIBILITY, **WORKER_ENV)
            # What beat does every minute: the job, once the dead try's claim has lapsed.
            workers.wait_for(lambda: timezone.now() > claimed.claimed_at + timedelta(seconds=LAPSE + 1), 30,
                             "the claim to lapse")
            run_job_task.apply_async(args=("webhook_deliveries", timezone.now().isoformat()), queue=workers.queue)
            workers.wait_for(lambda: WebhookDelivery.objects.get(pk=delivery.pk).state == "delivered", 30,
                             "the delivery to be made again")
            took = time.monotonic() - killed
    finally:
        receiver.close()

    assert took < 30, f"delivered again {took:.0f} s after the kill"
    assert [request["headers"]["X-Event-Id"] for request in receiver.received] == [event_id, event_id]
    delivered = WebhookDelivery.objects.get(pk=delivery.pk)
    assert (delivered.state, delivered.attempts, delivered.last_status, delivered.claimed_at) == (
        "delivered", 2, 200, None)
    assert JobRun.objects.get(name="webhook_deliveries").counts == {"requeued": 1}
