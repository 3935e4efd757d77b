"""Webhooks (docs/rules.md §10.1): changes sent to the URLs ops register, through an
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
has passed since the event, then it is failed.

At least once, with the same event id (`X-Event-Id`), which receivers dedupe by: each try
is claimed on its row before the POST and recorded under that claim after it; a worker
killed mid-try leaves the claim behind, and the `webhook_deliveries` job (every minute)
sends the task again once the claim is `requeue_after()` old (the task's time limit is
half that, so the try is over), without waiting for the broker's visibility timeout.
Destinations on private or loopback addresses are refused unless
`WEBHOOKS_ALLOW_PRIVATE` (on by default outside production); a try then connects to the
address it checked, not to a second lookup of the name, which a hostile DNS server could
answer with an inside address (DNS rebinding)."""

from __future__ import annotations

import hashlib
import hmac
import http.client
import ipaddress
import json
import random
import secrets
import socket
import urllib.error
import urllib.request
from collections.abc import Iterable, Mapping
from datetime import datetime, timedelta
from enum import StrEnum
from typing import Any
from urllib.parse import urlsplit

from django.conf import settings
from django.core.serializers.json import DjangoJSONEncoder
from django.db.models import F, Q
from django.utils import timezone

from . import config
from .celery import enqueue, requeue
from .errors import Refused
from .models import User, WebhookDelivery, WebhookEndpoint, WebhookEvent

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


def wants(kind: str) -> bool:
    """Some active endpoint wants `kind` (no query inside a request: cached configuration)."""
    return kind in config.get("webhook_kinds")


def emit(kind: str, payloads: Iterable[dict[str, Any]], now: datetime | None = None) -> None:
    """Queue `kind` events (one per payload) for the active endpoints that want it, in the
    caller's transaction."""
    if wants(kind):
        _write(kind, payloads, now)


def _write(kind: str, payloads: Iterable[dict[str, Any]], now: datetime | None) -> None:
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


class AssignCause(StrEnum):
    """Why a lead's owner changed, as `lead.assigned` says it."""

    ROUTING = "routing"  # the routing rules gave it (on ingest, on an activity, rule 4's colleagues)
    SLA = "sla_reassignment"  # untouched two business days: the pool's next member, or Unassigned
    EDIT = "edit"  # by hand: the lead's page, PATCH leads/{id}/, the admin
    BULK = "bulk_assign"  # a bulk action on a list
    INGEST = "ingest"  # POST leads/ or leads/bulk/ named the owner
    IMPORT = "import"  # a row of an import named the owner (or it was an SDR's own list)
    CONVERSION = "conversion"  # an unowned lead converted goes to its contact's owner
    INQUIRY_QUEUE = "inquiry_queue"  # the nightly job puts an Inquiry lead in the queue, owner cleared


LEAD_ASSIGNED = "lead.assigned"


def emit_assigned(changes: Iterable[tuple[int, int | None, int | None]], cause: AssignCause,
                  now: datetime | None = None) -> None:
    """`lead.assigned` for each (lead id, old owner id, new owner id) whose owner changed,
    in the caller's transaction. Nothing is read when no endpoint wants it; callers that
    would have to read the old owners first ask `wants(LEAD_ASSIGNED)`."""
    if not wants(LEAD_ASSIGNED):
        return
    changes = [(lead, old, new) for lead, old, new in changes if old != new]
    if not changes:
        return
    now = now or timezone.now()
    ids = {owner for _, old, new in changes for owner in (old, new) if owner is not None}
    people = {row["id"]: row for row in User.objects.filter(pk__in=ids).values("id", "username", "email")}

    def owner(pk: int | None) -> dict[str, Any] | None:
        return None if pk is None else people.get(pk, {"id": pk, "username": "", "email": ""})

    _write(LEAD_ASSIGNED, [{"id": lead, "old": owner(old), "new": owner(new), "cause": str(cause), "at": now}
                           for lead, old, new in changes], now)


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


def check_destination(url: str) -> str | None:
    """Refuse a URL that is not http(s), or whose host resolves to a private, loopback,
    link-local or reserved address (unless WEBHOOKS_ALLOW_PRIVATE). Returns the address a
    delivery connects to: the resolver's first answer, all of them checked (None when
    private ones are allowed, and nothing was checked)."""
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise Refused("A webhook URL is http:// or https:// with a host.", field="url")
    if settings.WEBHOOKS_ALLOW_PRIVATE:
        return None
    try:
        addresses = [info[4][0] for info in socket.getaddrinfo(parts.hostname, parts.port or 443,
                                                               type=socket.SOCK_STREAM)]
    except OSError:
        raise Refused(f"'{parts.hostname}' does not resolve.", field="url") from None
    for address in addresses:
        ip = ipaddress.ip_address(address.split("%")[0])
        if ip.is_private or ip.is_loopback or ip.is_link_local or ip.is_reserved or ip.is_multicast \
                or ip.is_unspecified:
            raise Refused(f"'{parts.hostname}' is a private or local address; webhooks go to public ones.",
                          field="url")
    return addresses[0]


class _NoRedirects(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args: Any, **kwargs: Any) -> None:
        return None  # a redirect is an answer (3xx), never followed: it could point inside


_opener = urllib.request.build_opener(_NoRedirects)


def _pinned(connection: type[http.client.HTTPConnection], address: str) -> type[http.client.HTTPConnection]:
    """`connection` opening its socket to `address` instead of looking the URL's host up
    again. The request's Host header and, over TLS, the server name sent and the
    certificate's check stay the URL's host."""

    class Pinned(connection):  # type: ignore[valid-type,misc]
        def __init__(self, *args: Any, **kwargs: Any) -> None:
            super().__init__(*args, **kwargs)
            self._create_connection = lambda destination, *rest: socket.create_connection(
                (address, destination[1]), *rest)

    return Pinned


class _PinnedHTTP(urllib.request.HTTPHandler):
    def __init__(self, address: str) -> None:
        super().__init__()
        self.connection = _pinned(http.client.HTTPConnection, address)

    def http_open(self, req: urllib.request.Request) -> http.client.HTTPResponse:
        return self.do_open(self.connection, req)


class _PinnedHTTPS(urllib.request.HTTPSHandler):
    def __init__(self, address: str) -> None:
        super().__init__()
        self.connection = _pinned(http.client.HTTPSConnection, address)

    def https_open(self, req: urllib.request.Request) -> http.client.HTTPResponse:
        return self.do_open(self.connection, req, context=self._context)


def opener_for(address: str | None) -> urllib.request.OpenerDirector:
    """How a try is sent: to `address` (check_destination's) directly, through no proxy
    of the environment, which would look the name up again; anywhere when none was
    checked."""
    if address is None:
        return _opener
    return urllib.request.build_opener(_NoRedirects, urllib.request.ProxyHandler({}), _PinnedHTTP(address),
                                       _PinnedHTTPS(address))


def deliver(delivery_id: int, now: datetime | None = None) -> WebhookDelivery | None:
    """Try a pending, due delivery once and record the answer, and when it failed, when to
    try again. The try is claimed first, by a conditional update that only one worker can
    win (the claim lapses after `requeue_after()`, long after the task's time limit: its
    worker died); the POST is made outside any transaction, and its answer is recorded only
    under the same claim. None when no try was due, or another worker holds it."""
    now = now or timezone.now()
    claimed = (WebhookDelivery.objects.filter(pk=delivery_id, state=WebhookDelivery.State.PENDING)
               .filter(Q(next_attempt_at__isnull=True) | Q(next_attempt_at__lte=now))
               .filter(Q(claimed_at__isnull=True) | Q(claimed_at__lte=now - requeue_after()))
               .update(claimed_at=now, attempts=F("attempts") + 1, last_attempt_at=now))
    if not claimed:
        return None  # done, not due yet (a copy of the task come early), or under way elsewhere
    delivery = WebhookDelivery.objects.select_related("event", "endpoint").get(pk=delivery_id)
    status, answer = _post(delivery)
    fields: dict[str, Any] = {"last_status": status, "last_response": answer[:SNIPPET], "claimed_at": None}
    if status is not None and 200 <= status < 300:
        fields.update(state=WebhookDelivery.State.DELIVERED, delivered_at=now, next_attempt_at=None)
    elif now - delivery.event.created_at >= GIVE_UP_AFTER:
        fields.update(state=WebhookDelivery.State.FAILED, next_attempt_at=None)
    else:
        fields.update(next_attempt_at=now + retry_delay(delivery.attempts))
    if not WebhookDelivery.objects.filter(pk=delivery_id, claimed_at=now).update(**fields):
        return None  # the claim lapsed and a later try took over: its answer is the one kept
    for name, value in fields.items():
        setattr(delivery, name, value)
    return delivery


def requeue_after() -> timedelta:
    """How long a delivery may wait past its time, or a claimed try go unfinished, before
    its task counts as lost (WEBHOOK_REQUEUE_AFTER_SECONDS)."""
    return timedelta(seconds=settings.WEBHOOK_REQUEUE_AFTER_SECONDS)


def attempt_time_limit() -> int:
    """Seconds after which the worker stops a try (Celery's hard time limit): half the
    time a claim holds, so a lapsed claim's try is certainly over."""
    return max(1, settings.WEBHOOK_REQUEUE_AFTER_SECONDS // 2)


def requeue_stranded(now: datetime) -> dict[str, int]:
    """`webhook_deliveries` (every minute): a pending delivery due `requeue_after()` ago
    and not tried since, or whose try was claimed that long ago and never finished, lost
    its task (a worker killed mid-try; Redis would give the message back only after its
    visibility timeout); send the task again. Each batch stamps its deliveries
    `requeued_at` and sends them once that commits, so one is sent again only after the
    same wait has passed once more. The claim keeps a late original and its copy from
    trying at once."""
    cutoff = now - requeue_after()
    stranded = (WebhookDelivery.objects.filter(state=WebhookDelivery.State.PENDING)
                .filter(Q(next_attempt_at__isnull=True) | Q(next_attempt_at__lte=cutoff))
                .filter(Q(claimed_at__isnull=True) | Q(claimed_at__lte=cutoff))
                .filter(Q(requeued_at__isnull=True) | Q(requeued_at__lte=cutoff)))
    return {"requeued": requeue(stranded, "sdrcrm.tasks.deliver_webhook", now)}


def retry_delay(attempts: int) -> timedelta:
    """30 s after the first failure, then doubling, up to LONGEST_WAIT; plus up to a fifth
    more at random, so an endpoint coming back is not hit by every retry at once."""
    delay = min(FIRST_RETRY * 2 ** (attempts - 1), LONGEST_WAIT)
    return delay * (1 + random.random() / 5)  # noqa: S311 - jitter, not a secret


def _post(delivery: WebhookDelivery) -> tuple[int | None, str]:
    """(HTTP status or None, the answer's start or what went wrong)."""
    endpoint, event = delivery.endpoint, delivery.event
    try:
        address = check_destination(endpoint.url)
    except Refused as refused:
        return None, refused.message
    body = body_of(event)
    timestamp = str(int(timezone.now().timestamp()))
    request = urllib.request.Request(endpoint.url, data=body, method="POST", headers={
        "Content-Type": "application/json", "User-Agent": "sdr-crm-webhooks/1", "X-Event-Id": str(event.id),
        "X-Event-Type": event.kind, "X-Timestamp": timestamp, "X-Signature": sign(endpoint.secret, timestamp, body)})
    try:
        with opener_for(address).open(request, timeout=TIMEOUT_SECONDS) as response:  # noqa: S310 - http(s) checked above
            return response.status, response.read(SNIPPET).decode(errors="replace")
    except urllib.error.HTTPError as error:
        return error.code, error.read(SNIPPET).decode(errors="replace")
    except (urllib.error.URLError, OSError, ValueError) as error:
        return None, f"{type(error).__name__}: {error}"


def resend(delivery: WebhookDelivery) -> WebhookDelivery:
    """Send a delivery again (a failed one, or a delivered one a receiver lost): the same
    event id, tried from now on (after the try under way, if one is)."""
    WebhookDelivery.objects.filter(pk=delivery.pk).update(
        state=WebhookDelivery.State.PENDING, next_attempt_at=timezone.now())
    enqueue("sdrcrm.tasks.deliver_webhook", delivery.pk)
    delivery.refresh_from_db()
    return delivery


# --- Endpoints ------------------------------------------------------------------------------

SECRET_LENGTHS = (16, 100)


def new_secret() -> str:
    """A secret for an endpoint whose maker gave none."""
    return secrets.token_urlsafe(32)


def save_endpoint(endpoint: WebhookEndpoint, data: Mapping[str, Any], by: User | None = None) -> str | None:
    """Create (`endpoint` unsaved) or edit an endpoint from `data` (url, events,
    description, active, secret): the URL must be a destination deliveries may go to,
    the events known kinds, at least one; a secret left out of a new endpoint is made up,
    of an edited one kept. Returns the secret when one was made up (shown once)."""
    if "url" in data:
        check_destination(data["url"])
    if "events" in data:
        events = sorted(set(data["events"]))
        unknown = [kind for kind in events if kind not in WebhookEndpoint.Event.values]
        if unknown or not events:
            raise Refused(f"Pick at least one event among {', '.join(WebhookEndpoint.Event.values)}"
                          f"{'; unknown: ' + ', '.join(unknown) if unknown else ''}.", field="events")
        endpoint.events = events
    made_up = None
    secret = data.get("secret") or ""
    if secret:
        low, high = SECRET_LENGTHS
        if not low <= len(secret) <= high:
            raise Refused(f"A secret is {low} to {high} characters long.", field="secret")
        endpoint.secret = secret
    elif endpoint.pk is None:
        endpoint.secret = made_up = new_secret()
    for field in ("url", "description", "active"):
        if field in data:
            setattr(endpoint, field, data[field])
    if endpoint.pk is None:
        endpoint.created_by = by
    endpoint.save()  # a signal changes the configuration's token: every process sees the kinds wanted
    return made_up


def set_active(endpoint: WebhookEndpoint, active: bool) -> None:
    """Turn an endpoint off (nothing new is sent to it; deliveries under way finish) or on."""
    endpoint.active = active
    endpoint.save(update_fields=["active"])
