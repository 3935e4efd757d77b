"""Webhooks (sdrcrm/webhooks.py, /api/v1/webhooks/): ops register an endpoint; a change
writes its event in the same transaction and the delivery is signed so a receiver can
check it; a rolled-back change sends nothing; failures are tried again with a growing
wait, then failed; ops send one again; private addresses are refused when so set."""

from __future__ import annotations

import hashlib
import hmac
import json
import socket
import threading
from datetime import timedelta
from http.server import BaseHTTPRequestHandler, HTTPServer

import pytest
from django.db import transaction
from django.utils import timezone

from leads.models import Lead
from opportunities import iqms
from opportunities import services as opportunities
from opportunities.models import Stage
from sdrcrm import config, webhooks
from sdrcrm.models import Role, WebhookDelivery, WebhookEndpoint, WebhookEvent
from tests.conftest import assert_refused
from tests.factories import OpportunityFactory, UserFactory

pytestmark = pytest.mark.django_db

URL = "/api/v1/webhooks/"


class Receiver:
    """An HTTP server on a free local port that records what it is sent and answers
    `status` (a list: one status per request, the last one repeated)."""

    def __init__(self) -> None:
        self.received: list[dict] = []
        self.statuses = [200]
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:  # noqa: N802 - http.server's name
                body = self.rfile.read(int(self.headers["Content-Length"]))
                receiver.received.append({"headers": dict(self.headers), "body": body})
                status = receiver.statuses.pop(0) if len(receiver.statuses) > 1 else receiver.statuses[0]
                self.send_response(status)
                self.end_headers()
                self.wfile.write(b"thanks" if status < 300 else b"try later")

            def log_message(self, *args) -> None:
                pass

        self.server = HTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_port}/hooks"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def receiver():
    server = Receiver()
    yield server
    server.close()


def register(api, ops, url: str, events: list[str], **fields) -> dict:
    response = api.as_user(ops).post(URL, {"url": url, "events": events, **fields}, format="json")
    assert response.status_code == 201, response.content
    return response.json()


def test_a_new_lead_is_sent_signed_so_the_receiver_can_check_it(api, ops, integration, receiver,
                                                                  django_capture_on_commit_callbacks):
    endpoint = register(api, ops, receiver.url, ["lead.created"])
    secret = endpoint["secret"]
    assert len(secret) >= 32 and "secret" not in api.as_user(ops).get(f"{URL}{endpoint['id']}/").json()

    with django_capture_on_commit_callbacks(execute=True):
        created = api.as_user(integration).post("/api/v1/leads/", {
            "email": "ana@initech.com", "last_name": "Lopez", "initial_source": "webcast"}, format="json")

    assert created.status_code == 201
    [sent] = receiver.received
    headers, body = sent["headers"], sent["body"]
    # What a receiver does: HMAC-SHA256 of "<X-Timestamp>.<body>" with the shared secret.
    expected = hmac.new(secret.encode(), headers["X-Timestamp"].encode() + b"." + body, hashlib.sha256).hexdigest()
    assert hmac.compare_digest(headers["X-Signature"], f"sha256={expected}")
    event = json.loads(body)
    assert (event["type"], event["id"]) == ("lead.created", headers["X-Event-Id"])
    assert event["data"]["email"] == "ana@initech.com" and event["data"]["id"] == created.json()["id"]
    delivery = WebhookDelivery.objects.get()
    assert (delivery.state, delivery.last_status, delivery.last_response, delivery.attempts) == (
        "delivered", 200, "thanks", 1)
    listed = api.as_user(ops).get(f"{URL}{endpoint['id']}/deliveries/").json()
    assert [(d["event_type"], d["state"]) for d in listed] == [("lead.created", "delivered")]


def test_a_rolled_back_change_sends_nothing_and_no_endpoint_costs_no_query(
        ops, receiver, django_capture_on_commit_callbacks, django_assert_num_queries):
    WebhookEndpoint.objects.create(url=receiver.url, secret="s" * 32, events=["lead.status_changed"])
    with django_capture_on_commit_callbacks(execute=True), pytest.raises(RuntimeError):
        with transaction.atomic():
            webhooks.emit("lead.status_changed", [{"id": 1, "old": "raw", "new": "mql"}])
            raise RuntimeError("the change fails")
    assert not WebhookEvent.objects.exists() and receiver.received == []
    with config.pinned():
        webhooks.emit("iqm.created", [{"id": 1}])  # reads the configuration once
        with django_assert_num_queries(0):
            webhooks.emit("iqm.created", [{"id": 2}])  # nobody wants it: nothing written, nothing read
    assert not WebhookEvent.objects.exists()


def test_a_failing_endpoint_is_tried_again_later_and_later_then_failed_and_ops_resend_it(
        api, ops, receiver, django_capture_on_commit_callbacks):
    receiver.statuses = [500, 503, 200]
    endpoint = WebhookEndpoint.objects.create(url=receiver.url, secret="s" * 32, events=["lead.created"])
    with django_capture_on_commit_callbacks(execute=True):
        webhooks.emit("lead.created", [{"id": 7}])
    delivery = WebhookDelivery.objects.get()
    start = delivery.last_attempt_at
    assert (delivery.state, delivery.attempts, delivery.last_status) == ("pending", 1, 500)
    assert timedelta(seconds=30) <= delivery.next_attempt_at - start <= timedelta(seconds=36)

    assert webhooks.deliver(delivery.pk, now=start + timedelta(seconds=10)) is None  # not due yet: not sent
    second = webhooks.deliver(delivery.pk, now=delivery.next_attempt_at)
    assert (second.attempts, second.last_status, second.last_response) == (2, 503, "try later")
    assert timedelta(seconds=60) <= second.next_attempt_at - second.last_attempt_at <= timedelta(seconds=72)
    assert webhooks.retry_delay(20) <= timedelta(minutes=6)  # never longer than the broker's patience

    receiver.statuses = [500]
    late = delivery.event.created_at + webhooks.GIVE_UP_AFTER
    failed = webhooks.deliver(delivery.pk, now=late)
    assert (failed.state, failed.attempts, failed.next_attempt_at) == ("failed", 3, None)
    assert len(receiver.received) == 3

    receiver.statuses = [200]
    with django_capture_on_commit_callbacks(execute=True):
        resent = api.as_user(ops).post(f"{URL}{endpoint.pk}/resend/", {"delivery": delivery.pk}, format="json")
    assert resent.status_code == 200
    delivery.refresh_from_db()
    assert (delivery.state, delivery.attempts) == ("delivered", 4)
    ids = {request["headers"]["X-Event-Id"] for request in receiver.received}
    assert ids == {str(delivery.event_id)}  # the same event id every time: receivers dedupe by it
    assert api.as_user(ops).post(f"{URL}{endpoint.pk}/resend/", {"delivery": 999}, format="json").status_code == 404


def test_private_addresses_are_refused_when_so_set(api, ops, settings, receiver):
    settings.WEBHOOKS_ALLOW_PRIVATE = False
    refused = api.as_user(ops).post(URL, {"url": receiver.url, "events": ["lead.created"]}, format="json")
    assert refused.status_code == 400 and "private or local address" in json.dumps(refused.json())
    bad = api.as_user(ops).post(URL, {"url": "ftp://example.com/x", "events": ["lead.created"]}, format="json")
    assert bad.status_code == 400
    none = api.as_user(ops).post(URL, {"url": "https://example.com/x", "events": []}, format="json")
    assert none.status_code == 400
    # An endpoint registered while allowed, then delivered to while not: refused, never sent.
    endpoint = WebhookEndpoint.objects.create(url=receiver.url, secret="s" * 32, events=["lead.created"])
    event = WebhookEvent.objects.create(kind="lead.created", payload={"id": 1})
    delivery = WebhookDelivery.objects.create(event=event, endpoint=endpoint)
    tried = webhooks.deliver(delivery.pk)
    assert tried.last_status is None and "private or local" in tried.last_response and receiver.received == []


def test_only_ops_manage_webhooks(api, sdr, manager):
    for user in (sdr, manager, UserFactory(role=Role.INTEGRATION)):
        assert api.as_user(user).get(URL).status_code == 403
        assert api.as_user(user).post(URL, {"url": "https://example.com", "events": ["lead.created"]},
                                      format="json").status_code == 403


def test_bulk_ingest_stage_changes_and_iqms_write_their_events(api, ops, integration, receiver,
                                                                django_capture_on_commit_callbacks):
    WebhookEndpoint.objects.create(url=receiver.url, secret="s" * 32,
                                   events=["lead.created", "opportunity.stage_changed", "iqm.created"])
    with django_capture_on_commit_callbacks(execute=True):
        api.as_user(integration).post("/api/v1/leads/bulk/", {"leads": [
            {"email": f"p{n}@firm{n}.com", "last_name": "Doe", "initial_source": "webcast"} for n in range(3)]},
            format="json")
    sent = sorted(json.loads(r["body"])["data"]["email"] for r in receiver.received)
    assert sent == ["p0@firm0.com", "p1@firm1.com", "p2@firm2.com"] and Lead.objects.count() == 3

    opportunity = OpportunityFactory()
    with django_capture_on_commit_callbacks(execute=True):
        opportunities.change_stage(opportunity, Stage.UNQUALIFIED, by=opportunity.owner,
                                   now=timezone.now())
    stage = json.loads(receiver.received[-1]["body"])
    assert stage["type"] == "opportunity.stage_changed"
    assert (stage["data"]["old"], stage["data"]["new"]) == (Stage.PENDING_ACCEPTANCE, Stage.UNQUALIFIED)

    sdr = UserFactory(role=Role.SDR)
    lead = Lead.objects.get(email="p0@firm0.com")
    start = timezone.now() + timedelta(days=2)
    with django_capture_on_commit_callbacks(execute=True):
        iqm = iqms.book_iqm(lead, {"start": start, "end": start + timedelta(minutes=30)}, by=sdr)
    booked = json.loads(receiver.received[-1]["body"])
    assert (booked["type"], booked["data"]["id"], booked["data"]["lead"], booked["data"]["sdr"]) == (
        "iqm.created", iqm.pk, lead.pk, sdr.pk)


def test_an_api_edit_goes_through_the_same_checks_as_a_new_endpoint(api, ops, settings):
    settings.WEBHOOKS_ALLOW_PRIVATE = False
    endpoint = WebhookEndpoint.objects.create(url="https://hooks.example.com/x", secret="s" * 32,
                                              events=["lead.created"])
    refused = api.as_user(ops).patch(f"{URL}{endpoint.pk}/", {"url": "http://127.0.0.1/x"}, format="json")
    body = assert_refused(refused, field="url")
    assert "private or local address" in body["detail"]

    changed = api.as_user(ops).patch(f"{URL}{endpoint.pk}/", {"events": ["lead.created", "lead.assigned"],
                                                              "secret": "t" * 20}, format="json")

    assert changed.status_code == 200 and "secret" not in changed.json()
    endpoint.refresh_from_db()
    assert (endpoint.url, endpoint.events, endpoint.secret) == ("https://hooks.example.com/x",
                                                                ["lead.assigned", "lead.created"], "t" * 20)
    assert "lead.assigned" in config.get("webhook_kinds")


PUBLIC = "93.184.216.34"  # a public address; the tests below never let a socket reach it


class Rebinding:
    """hooks.example.com as a hostile DNS server answers it: a public address the first
    time, the machine's own afterwards. Sockets opened to PUBLIC go to 127.0.0.1 instead
    (the test's receiver) and are recorded."""

    def __init__(self, monkeypatch) -> None:
        self.lookups = 0
        self.connected: list[tuple[str, int]] = []
        real_lookup, real_connect = socket.getaddrinfo, socket.create_connection

        def lookup(host, port, *args, **kwargs):
            if host != "hooks.example.com":
                return real_lookup(host, port, *args, **kwargs)
            self.lookups += 1
            address = PUBLIC if self.lookups == 1 else "127.0.0.1"
            return [(socket.AF_INET, socket.SOCK_STREAM, 6, "", (address, port or 0))]

        def connect(destination, *args, **kwargs):
            self.connected.append(destination)
            host, port = destination
            return real_connect(("127.0.0.1" if host == PUBLIC else host, port), *args, **kwargs)

        monkeypatch.setattr(socket, "getaddrinfo", lookup)
        monkeypatch.setattr(socket, "create_connection", connect)


def delivery_to(url: str) -> WebhookDelivery:
    endpoint = WebhookEndpoint.objects.create(url=url, secret="s" * 32, events=["lead.created"])
    event = WebhookEvent.objects.create(kind="lead.created", payload={"id": 1})
    return WebhookDelivery.objects.create(event=event, endpoint=endpoint)


def test_a_try_connects_to_the_address_it_checked_not_to_a_second_lookup(settings, receiver, monkeypatch):
    settings.WEBHOOKS_ALLOW_PRIVATE = False
    dns = Rebinding(monkeypatch)
    port = receiver.server.server_port
    delivery = delivery_to(f"http://hooks.example.com:{port}/hooks")

    tried = webhooks.deliver(delivery.pk)

    assert (tried.state, tried.last_status) == (WebhookDelivery.State.DELIVERED, 200)
    assert dns.lookups == 1 and dns.connected == [(PUBLIC, port)]
    assert receiver.received[0]["headers"]["Host"] == f"hooks.example.com:{port}"


def test_over_tls_the_pinned_try_still_names_the_host_to_the_server(settings, monkeypatch):
    """The server name a TLS client sends in the clear (SNI), which the certificate is
    checked against, stays the URL's host when the socket goes to the checked address."""
    settings.WEBHOOKS_ALLOW_PRIVATE = False
    dns = Rebinding(monkeypatch)
    listener = socket.create_server(("127.0.0.1", 0))
    port = listener.getsockname()[1]
    hello: list[bytes] = []

    def read_hello() -> None:
        connection, _ = listener.accept()
        with connection:
            hello.append(connection.recv(4096))

    reader = threading.Thread(target=read_hello, daemon=True)
    reader.start()
    delivery = delivery_to(f"https://hooks.example.com:{port}/hooks")

    tried = webhooks.deliver(delivery.pk)
    reader.join(10)
    listener.close()

    assert tried.last_status is None and tried.state == WebhookDelivery.State.PENDING  # no TLS answer: retried
    assert dns.lookups == 1 and dns.connected == [(PUBLIC, port)]
    assert b"hooks.example.com" in hello[0]


def test_with_private_addresses_allowed_a_try_looks_the_name_up_as_usual(settings, receiver, monkeypatch):
    settings.WEBHOOKS_ALLOW_PRIVATE = True
    dns = Rebinding(monkeypatch)
    dns.lookups = 1  # every answer is the machine's own
    port = receiver.server.server_port

    tried = webhooks.deliver(delivery_to(f"http://hooks.example.com:{port}/hooks").pk)

    assert tried.state == WebhookDelivery.State.DELIVERED and dns.connected == [("hooks.example.com", port)]
