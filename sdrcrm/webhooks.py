"""Webhooks (docs/rules.md §10.3): changes sent to the URLs ops register, through an
outbox.

A service that makes a change calls `emit(kind, payloads)` inside its transaction: when an
active endpoint wants that kind, an event row (the outbox) and a delivery per endpoint
are written in the same transaction, and a Celery task per delivery is queued once it
commits — so a rolled-back change sends nothing. With no endpoint for the kind, `emit`
costs no query (the kinds wanted are cached configuration, sdrcrm.config).

`deliver` POSTs the event, signed: `X-Signature: sha256=<hex>` is the HMAC-SHA256, keyed
by the endpoint's secret, of the `X-Timestamp` header's value, a dot, and the body. A 2xx
answer delivers it; anything else is tried again after 30 s, 1, 2, 4 minutes (doubling,
with up to a fifth more at random, then every 5 minutes) until GIVE_UP_AFTER (24 hours)
has passed since the event, then it is failed. The task acks late, so a worker killed mid-delivery leaves
it to be delivered again: at least once, with the same event id (`X-Event-Id`), which
receivers dedupe by. Destinations on private or loopback addresses are refused unless
`WEBHOOKS_ALLOW_PRIVATE` (on by default outside production)."""

from __future__ import annotations

import hashlib
import hmac
import ipaddress
import json
import random
import socket
import urllib.error
import urllib.request
from collections.abc import Iterable
from datetime import datetime, timedelta
from typing import Any
from urllib.parse import urlsplit

from django.conf import settings
from django.core.serializers.json import DjangoJSONEncoder
from django.db import transaction
from django.utils import timezone

from . import config
from .celery import enqueue
from .errors import Refused
from .models import WebhookDelivery, WebhookEndpoint, WebhookEvent

GIVE_UP_AFTER = timedelta(hours=24)
FIRST_RETRY = timedelta(seconds=30)
# Below the broker's visibility timeout (10 minutes): a task waiting longer than that for
# its time would be handed to a second worker meanwhile.
LONGEST_WAIT = timedelta(minutes=5)
TIMEOUT_SECONDS = 5
SNIPPET = 500


def read_wanted_kinds() -> frozenset[str]:
    """The kinds some active endpoint wants (cached as configuration: sdrcrm/apps.py)."""
    kinds: set[str] = set()
    for events in WebhookEndpoint.objects.filter(active=True).values_list("events", flat=True):
        kinds.update(events)
    return frozenset(kinds)


def emit(kind: str, payloads: Iterable[dict[str, Any]], now: datetime | None = None) -> None:
    """Queue `kind` events (one per payload) for the active endpoints that want it, in the
    caller's transaction."""
    if kind not in config.get("webhook_kinds"):
        return
    endpoints = [e for e in WebhookEndpoint.objects.filter(active=True) if kind in e.events]
    payloads = list(payloads)
    if not endpoints or not payloads:
        return
    now = now or timezone.now()
    events = WebhookEvent.objects.bulk_create(
        [WebhookEvent(kind=kind, payload=json.loads(json.dumps(p, cls=DjangoJSONEncoder)), created_at=now)
         for p in payloads])
    deliveries = WebhookDelivery.objects.bulk_create(
        [WebhookDelivery(event=event, endpoint=endpoint, next_attempt_at=now) for event in events
         for endpoint in endpoints])
    for delivery in deliveries:
        enqueue("sdrcrm.tasks.deliver_webhook", delivery.pk)


# --- What each kind of event says ----------------------------------------------------------

def lead_data(lead: Any) -> dict[str, Any]:
    return {"id": lead.pk, "email": lead.email, "first_name": lead.first_name, "last_name": lead.last_name,
            "title": lead.title, "company": lead.company, "country": lead.country, "status": lead.status,
            "score": lead.score, "owner": lead.owner_id, "queue": lead.queue_id,
            "initial_source": lead.initial_source, "created_at": lead.created_at}


def status_data(lead_id: int, old: str, new: str, reason: str, cause: str, at: datetime) -> dict[str, Any]:
    return {"id": lead_id, "old": old, "new": new, "reason": reason, "cause": cause, "at": at}


def stage_data(opportunity: Any, old: str, at: datetime) -> dict[str, Any]:
    return {"id": opportunity.pk, "name": opportunity.name, "old": old, "new": opportunity.stage,
            "account": opportunity.account_id, "owner": opportunity.owner_id, "sdr": opportunity.sdr_id,
            "iacv": opportunity.iacv, "at": at}


def iqm_data(iqm: Any) -> dict[str, Any]:
    return {"id": iqm.pk, "lead": iqm.lead_id, "contact": iqm.contact_id, "account": iqm.account_id,
            "opportunity": iqm.opportunity_id, "sdr": iqm.sdr_id, "start": iqm.start, "end": iqm.end,
            "disposition": iqm.disposition}


# --- Delivering -------------------------------------------------------------------------------

def body_of(event: WebhookEvent) -> bytes:
    return json.dumps({"id": str(event.id), "type": event.kind, "created_at": event.created_at.isoformat(),
                       "data": event.payload}, sort_keys=True).encode()


def sign(secret: str, timestamp: str, body: bytes) -> str:
    """The X-Signature of a delivery: sha256=HMAC-SHA256(secret, timestamp + "." + body)."""
    return "sha256=" + hmac.new(secret.encode(), timestamp.encode() + b"." + body, hashlib.sha256).hexdigest()


def check_destination(url: str) -> None:
    """Refuse a URL that is not http(s), or whose host resolves to a private, loopback,
    link-local or reserved address (unless WEBHOOKS_ALLOW_PRIVATE)."""
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise Refused("A webhook URL is http:// or https:// with a host.", field="url")
    if settings.WEBHOOKS_ALLOW_PRIVATE:
        return
    try:
        addresses = {info[4][0] for info in socket.getaddrinfo(parts.hostname, parts.port or 443)}
    except OSError:
        raise Refused(f"'{parts.hostname}' does not resolve.", field="url") from None
    for address in addresses:
        ip = ipaddress.ip_address(address.split("%")[0])
        if ip.is_private or ip.is_loopback or ip.is_link_local or ip.is_reserved or ip.is_multicast \
                or ip.is_unspecified:
            raise Refused(f"'{parts.hostname}' is a private or local address; webhooks go to public ones.",
                          field="url")


class _NoRedirects(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args: Any, **kwargs: Any) -> None:
        return None  # a redirect is an answer (3xx), never followed: it could point inside


_opener = urllib.request.build_opener(_NoRedirects)


def deliver(delivery_id: int, now: datetime | None = None) -> WebhookDelivery | None:
    """Try a pending, due delivery once (its row locked meanwhile, so two workers never send
    it at once); record the answer, and when it failed, when to try again. None when no
    try was due."""
    now = now or timezone.now()
    with transaction.atomic():
        delivery = (WebhookDelivery.objects.select_for_update(of=("self",)).select_related("event", "endpoint")
                    .filter(pk=delivery_id, state=WebhookDelivery.State.PENDING).first())
        if delivery is None or (delivery.next_attempt_at and delivery.next_attempt_at > now):
            return None  # done, or not due yet (a copy of the task come early: the due one will try)
        status, answer = _post(delivery)
        delivery.attempts += 1
        delivery.last_status, delivery.last_response, delivery.last_attempt_at = status, answer[:SNIPPET], now
        if status is not None and 200 <= status < 300:
            delivery.state, delivery.delivered_at, delivery.next_attempt_at = WebhookDelivery.State.DELIVERED, now, None
        elif now - delivery.event.created_at >= GIVE_UP_AFTER:
            delivery.state, delivery.next_attempt_at = WebhookDelivery.State.FAILED, None
        else:
            delivery.next_attempt_at = now + retry_delay(delivery.attempts)
        delivery.save()
    return delivery


def retry_delay(attempts: int) -> timedelta:
    """30 s after the first failure, then doubling, up to LONGEST_WAIT; plus up to a fifth
    more at random, so an endpoint coming back is not hit by every retry at once."""
    delay = min(FIRST_RETRY * 2 ** (attempts - 1), LONGEST_WAIT)
    return delay * (1 + random.random() / 5)  # noqa: S311 - jitter, not a secret


def _post(delivery: WebhookDelivery) -> tuple[int | None, str]:
    """(HTTP status or None, the answer's start or what went wrong)."""
    endpoint, event = delivery.endpoint, delivery.event
    try:
        check_destination(endpoint.url)
    except Refused as refused:
        return None, refused.message
    body = body_of(event)
    timestamp = str(int(timezone.now().timestamp()))
    request = urllib.request.Request(endpoint.url, data=body, method="POST", headers={
        "Content-Type": "application/json", "User-Agent": "sdr-crm-webhooks/1", "X-Event-Id": str(event.id),
        "X-Event-Type": event.kind, "X-Timestamp": timestamp, "X-Signature": sign(endpoint.secret, timestamp, body)})
    try:
        with _opener.open(request, timeout=TIMEOUT_SECONDS) as response:  # noqa: S310 - http(s) checked above
            return response.status, response.read(SNIPPET).decode(errors="replace")
    except urllib.error.HTTPError as error:
        return error.code, error.read(SNIPPET).decode(errors="replace")
    except (urllib.error.URLError, OSError, ValueError) as error:
        return None, f"{type(error).__name__}: {error}"


def resend(delivery: WebhookDelivery) -> WebhookDelivery:
    """Send a delivery again (a failed one, or a delivered one a receiver lost): the same
    event id, tried from now on."""
    WebhookDelivery.objects.filter(pk=delivery.pk).update(
        state=WebhookDelivery.State.PENDING, next_attempt_at=timezone.now())
    enqueue("sdrcrm.tasks.deliver_webhook", delivery.pk)
    delivery.refresh_from_db()
    return delivery
