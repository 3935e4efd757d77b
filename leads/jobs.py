"""Periodic jobs on leads. Each takes `now`, works in batches of JOB_BATCH_SIZE rows per
transaction, returns its counts, and does nothing new when run again for the same `now`."""

from __future__ import annotations

from datetime import datetime, timedelta

from django.conf import settings
from django.db import transaction
from django.db.models import Exists, OuterRef, Q

from sdrcrm.models import Notification
from sdrcrm.pagination import after

from .models import Account, Activity, Enrollment, Lead, Queue, Status


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
    queue = Queue.objects.get(name=Queue.INQUIRY)
    unassigned = Queue.objects.filter(name=Queue.UNASSIGNED).values_list("id", flat=True).first()
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
            cleared = batch_rows.filter(owner__isnull=False).update(queue=queue, owner=None, updated_at=now)
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
            alerts = [
                Notification(user_id=by, kind="targeted_unflagged",
                             message=f"Account {name} was unflagged as targeted: no lead or contact activity "
                                     f"in {days} days.")
                for pk, name, by in rows if pk in ids and by is not None
            ]
            Notification.objects.bulk_create(alerts)
        unflagged += len(ids)
        notified += len(alerts)
