"""Periodic jobs on leads. Each takes `now`, works in batches of JOB_BATCH_SIZE rows per
transaction, returns its counts, and does nothing new when run again for the same `now`."""

from __future__ import annotations

from datetime import datetime, timedelta

from django.conf import settings
from django.db import transaction
from django.db.models import Exists, OuterRef, Q

from routing import pools
from sdrcrm import notifications, webhooks
from sdrcrm.celery import requeue
from sdrcrm.models import Notification
from sdrcrm.pagination import after
from sdrcrm.webhooks import LEAD_ASSIGNED, AssignCause

from . import lifecycle
from .models import (
    Account,
    Activity,
    ActivityType,
    Cause,
    Enrollment,
    Lead,
    Queue,
    RecycleReason,
    SequenceEvent,
    Status,
)


def expire_active_windows(now: datetime) -> dict[str, int]:
    """`active_passive`: leads whose active window ended become passive (outbound may
    then target them)."""
    batch = settings.JOB_BATCH_SIZE
    passive = 0
    while True:
        # Rows leave the partial index as they are updated, so each batch starts afresh.
        ids = list(
            Lead.objects.filter(is_passive=False, active_until__lte=now)
            .order_by("active_until", "id")
            .values_list("id", flat=True)[:batch]
        )
        if not ids:
            return {"passive": passive}
        with transaction.atomic():
            passive += Lead.objects.filter(id__in=ids, is_passive=False).update(is_passive=True)


def queue_inquiries(now: datetime) -> dict[str, int]:
    """`inquiry_queue` (nightly, 22:30 New York): `inquiry` leads in no active sequence go
    to the Inquiry Queue, where anyone may adopt them. The queue replaces the owner (a lead
    has one or the other). Leads already there are left alone, and so are leads another
    queue holds on purpose (Community Advocate, Sales Admin); Unassigned ones do move."""
    queue = pools.queue_named(Queue.INQUIRY)
    unassigned = pools.queue_id(Queue.UNASSIGNED)
    waiting = (
        Lead.objects.filter(status=Status.INQUIRY, converted_to__isnull=True)
        .filter(Q(queue__isnull=True) | Q(queue_id=unassigned))
        .exclude(Exists(Enrollment.objects.filter(lead=OuterRef("pk"), state=Enrollment.State.ACTIVE)))
    )
    batch = settings.JOB_BATCH_SIZE
    queued = owners_cleared = 0
    last: tuple[datetime, int] | None = None
    while True:
        # Keyset on the (status, status_changed_at, id) index: queuing does not change
        # the key, so each batch continues after the last row read.
        page = waiting
        if last is not None:
            page = after(page, "status_changed_at", *last)
        rows = list(page.order_by("status_changed_at", "id").values_list("status_changed_at", "id")[:batch])
        if not rows:
            return {"queued": queued, "owners_cleared": owners_cleared}
        last = rows[-1]
        ids = [pk for _, pk in rows]
        with transaction.atomic():
            # The same conditions again, set-based: a lead enrolled or moved meanwhile
            # stays. Owned and unowned apart, only to count the owners the queue replaced.
            batch_rows = waiting.filter(id__in=ids)
            owned = batch_rows.filter(owner__isnull=False)
            if webhooks.wants(LEAD_ASSIGNED):
                # The owners the queue replaces, read (and locked) only when someone wants to know.
                losing = list(owned.select_for_update(of=("self",)).values_list("id", "owner_id"))
                owned = Lead.objects.filter(id__in=[pk for pk, _ in losing])
                webhooks.emit_assigned([(pk, owner, None) for pk, owner in losing], AssignCause.INQUIRY_QUEUE, now)
            cleared = owned.update(queue=queue, owner=None, updated_at=now)
            queued += cleared + batch_rows.filter(owner__isnull=True).update(queue=queue, updated_at=now)
            owners_cleared += cleared


def unflag_quiet_accounts(now: datetime) -> dict[str, int]:
    """`targeted_accounts` (daily): an account flagged targeted at least TARGETED_QUIET_DAYS
    ago whose leads and contacts have had no activity for as long is unflagged, and the SDR
    who flagged it is told. `targeted_by` and `targeted_at` stay as the record of the last
    flag; `targeted` alone says whether it stands."""
    cutoff = now - timedelta(days=settings.TARGETED_QUIET_DAYS)
    quiet = (
        Account.objects.filter(targeted=True)
        .filter(Q(targeted_at__isnull=True) | Q(targeted_at__lte=cutoff))
        .exclude(Exists(Activity.objects.filter(lead__account=OuterRef("pk"), occurred_at__gt=cutoff)))
        .exclude(Exists(Activity.objects.filter(contact__account=OuterRef("pk"), occurred_at__gt=cutoff)))
    )
    days = settings.TARGETED_QUIET_DAYS
    batch = settings.JOB_BATCH_SIZE
    unflagged = notified = 0
    last_id = 0
    while True:
        # One query per batch decides which accounts are quiet (two anti-joins on the
        # activity indexes); accounts still active are passed over by the keyset.
        rows = list(quiet.filter(id__gt=last_id).order_by("id").values_list("id", "name", "targeted_by_id")[:batch])
        if not rows:
            return {"unflagged": unflagged, "notified": notified}
        last_id = rows[-1][0]
        with transaction.atomic():
            ids = set(
                Account.objects.select_for_update().filter(id__in=[pk for pk, _, _ in rows], targeted=True)
                .values_list("id", flat=True)
            )
            Account.objects.filter(id__in=ids).update(targeted=False, updated_at=now)
            alerts = notifications.send(
                notifications.Alert(Notification.Kind.TARGETED_UNFLAGGED, f"Account {name} was unflagged as targeted: "
                                    f"no lead or contact activity in {days} days.", user_id=by)
                for pk, name, by in rows if pk in ids and by is not None
            )
        unflagged += len(ids)
        notified += len(alerts)


# --- The sequence jobs --------------------------------------------------------------


def requeue_stranded_events(now: datetime) -> dict[str, int]:
    """`sequence_events` (every minute): events stored long ago and still not applied
    lost their task; enqueue them again (applying twice is harmless anyway). Each batch
    stamps its events `requeued_at` and sends them once that commits, so an event is sent
    again only after the same delay has passed once more: a run resumed after its worker
    died sends what it had not sent, not the whole backlog twice."""
    cutoff = now - timedelta(seconds=settings.SEQUENCE_EVENT_REQUEUE_AFTER_SECONDS)
    stranded = SequenceEvent.objects.filter(applied_at__isnull=True, received_at__lte=cutoff).filter(
        Q(requeued_at__isnull=True) | Q(requeued_at__lte=cutoff))
    return {"requeued": requeue(stranded, "leads.tasks.apply_sequence_event", now)}


# --- The `unresponsive` job ---------------------------------------------------------


def follow_up_unresponsive(now: datetime) -> dict[str, int]:
    """`unresponsive` (hourly): a person whose sequence finished without a reply at least
    UNRESPONSIVE_AFTER_DAYS ago, still Accepted, with no reply since and no newer active
    enrolment → Unresponsive (or Recycle, no response, per UNRESPONSIVE_STATUS). Every
    enrolment looked at is marked followed up, so a re-run finds nothing."""
    cutoff = now - timedelta(days=settings.UNRESPONSIVE_AFTER_DAYS)
    target = Status.RECYCLE if settings.UNRESPONSIVE_STATUS == "recycle" else Status.UNRESPONSIVE
    reason = RecycleReason.NO_RESPONSE if target == Status.RECYCLE else ""
    checked = moved = 0
    cursor: tuple[datetime, int] | None = None
    awaiting = Enrollment.objects.filter(
        state=Enrollment.State.FINISHED, finish_reason=Enrollment.FinishReason.COMPLETED, followed_up_at=None,
        finished_at__lte=cutoff,
    )
    while True:
        # The partial index enrollment_awaiting_followup, in (finished_at, id) order;
        # the cursor makes progress certain even if a row were to stay in the index.
        batch = awaiting
        if cursor is not None:
            batch = after(batch, "finished_at", *cursor)
        # No row locks: the moves are conditional updates (a reply applied meanwhile
        # wins), and locking enrolments before people would invert apply_event's order.
        with transaction.atomic():
            rows = list(batch.select_related("lead", "contact").order_by("finished_at", "id")
                        [:settings.JOB_BATCH_SIZE])
            if not rows:
                return {"checked": checked, "moved": moved}
            cursor = (rows[-1].finished_at, rows[-1].pk)  # type: ignore[assignment]
            quiet = _without_reply_or_active(rows)
            for enrollment in rows:
                person = enrollment.person
                if enrollment.pk in quiet and person.status == Status.ACCEPTED and lifecycle.transition(
                    person, target, reason=reason, cause=Cause.JOB, now=now
                ):
                    moved += 1
            Enrollment.objects.filter(pk__in=[e.pk for e in rows]).update(followed_up_at=now)
            checked += len(rows)


def _without_reply_or_active(rows: list[Enrollment]) -> set[int]:
    """The enrolments in `rows` whose person has not replied since (in any enrolment, or
    as a sequence-reply activity) and is not in a newer active enrolment: a few queries
    per batch, not per row."""
    lead_ids = {e.lead_id for e in rows if e.lead_id}
    contact_ids = {e.contact_id for e in rows if e.contact_id}
    person_q = Q(lead_id__in=lead_ids) | Q(contact_id__in=contact_ids)
    busy = set(Enrollment.objects.filter(person_q, state=Enrollment.State.ACTIVE).values_list("lead_id", "contact_id"))
    replies: dict[tuple[int | None, int | None], datetime] = {}
    for key_lead, key_contact, at in [
        *Enrollment.objects.filter(person_q, replied_at__isnull=False).values_list("lead_id", "contact_id",
                                                                                   "replied_at"),
        *Activity.objects.filter(person_q, type=ActivityType.SEQUENCE_REPLY).values_list("lead_id", "contact_id",
                                                                                          "occurred_at"),
    ]:
        key = (key_lead, key_contact)
        replies[key] = max(at, replies.get(key, at))
    quiet = set()
    for enrollment in rows:
        key = (enrollment.lead_id, enrollment.contact_id)
        last_reply = replies.get(key)
        if key in busy or (last_reply is not None and enrollment.finished_at and last_reply >= enrollment.finished_at):
            continue
        quiet.add(enrollment.pk)
    return quiet

