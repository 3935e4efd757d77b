"""The `stale_opportunities` job (docs/rules.md §3, §4), daily. Like the jobs in leads/jobs.py it
takes `now`, works in keyset batches of JOB_BATCH_SIZE rows per transaction, returns its
counts, and does nothing new when run again.

- The AE is expected to move a stage-0 opportunity within STALE_OPPORTUNITY_HOURS of its
  IQM: an opportunity in 0-Pending Acceptance whose IQM ended longer ago than that, and
  which has not changed stage for as long, gets one reminder to its owner per IQM
  (`stale_reminded_at` records it), with a task on their Today page to accept or
  unqualify it, due at once. Still being in stage 0 is what "no stage move" means:
  a move out ends the wait. An opportunity that entered stage 0 after its IQM (created
  when the lead was converted after the meeting, or a pre-opportunity handed over) gives
  the AE the same hours from then, rather than never being reminded.
- An IQM no-show not rebooked (no later IQM with the same person) within
  NO_SHOW_REBOOK_DAYS is flagged once (`unqualify_flagged_at`) and the AE told to unqualify.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from django.conf import settings
from django.db import transaction
from django.db.models import Exists, OuterRef, Q, QuerySet, Subquery

from leads.models import Task
from sdrcrm import notifications
from sdrcrm.models import Notification
from sdrcrm.pagination import after

from .models import IQM, Disposition, Opportunity, Stage


def stale_opportunities(now: datetime) -> dict[str, int]:
    return {"reminded": remind_stale_opportunities(now), "flagged": flag_unrebooked_no_shows(now)}


def stale_iqms(cutoff: datetime) -> QuerySet:
    """The outer opportunity's IQMs that ended before `cutoff` and have had no reminder yet
    (a reminder sent before an IQM began was about an earlier one)."""
    return IQM.objects.filter(
        Q(opportunity__stale_reminded_at=None) | Q(start__gt=OuterRef("stale_reminded_at")),
        opportunity=OuterRef("pk"), end__lt=cutoff,
    )


def remind_stale_opportunities(now: datetime) -> int:
    hours = settings.STALE_OPPORTUNITY_HOURS
    cutoff = now - timedelta(hours=hours)
    latest = stale_iqms(cutoff).order_by("-start", "-id")
    # Stage-0 opportunities untouched since the cutoff, by the partial index on
    # (stage_changed_at, id).
    stale = (
        Opportunity.objects.filter(stage=Stage.PENDING_ACCEPTANCE, stage_changed_at__lt=cutoff)
        .annotate(iqm_subject=Subquery(latest.values("subject")[:1]), iqm_end=Subquery(latest.values("end")[:1]))
        .filter(iqm_end__isnull=False)
    )
    batch = settings.JOB_BATCH_SIZE
    reminded = 0
    last: tuple[datetime, int] | None = None
    while True:
        page = stale
        if last is not None:
            # Reminding does not change the key, so each batch continues after the last row read.
            page = after(page, "stage_changed_at", *last)
        rows = list(page.order_by("stage_changed_at", "id").values_list(
            "stage_changed_at", "id", "name", "owner_id", "iqm_subject", "iqm_end")[:batch])
        if not rows:
            return reminded
        last = rows[-1][0], rows[-1][1]
        with transaction.atomic():
            # Lock, then the same conditions again: an opportunity accepted or reminded
            # since the read above is left alone.
            ids = set(stale.filter(id__in=[row[1] for row in rows]).select_for_update(of=("self",))
                      .values_list("id", flat=True))
            Opportunity.objects.filter(id__in=ids).update(stale_reminded_at=now)
            Task.objects.bulk_create(
                Task(title=f"Accept or unqualify {name}", kind=Task.Kind.TODO, due_at=now, owner_id=owner_id,
                     opportunity_id=pk)
                for _, pk, name, owner_id, *_ in rows if pk in ids and owner_id is not None
            )
            notifications.send(
                notifications.Alert(
                    Notification.Kind.STALE_OPPORTUNITY, user_id=owner_id, opportunity_id=pk,
                    message=f"{name} is still in 0-Pending Acceptance more than {hours} hours after its IQM "
                            f"({subject}, ended {end:%Y-%m-%d %H:%M} UTC): accept it into 1-Discovery or "
                            f"unqualify it.",
                )
                for _, pk, name, owner_id, subject, end in rows if pk in ids
            )
        reminded += len(ids)


def flag_unrebooked_no_shows(now: datetime) -> int:
    days = settings.NO_SHOW_REBOOK_DAYS
    cutoff = now - timedelta(days=days)
    later = IQM.objects.filter(start__gt=OuterRef("start"))
    # By the partial index on (start, id) over unflagged no-shows.
    waiting = (
        IQM.objects.filter(disposition=Disposition.NO_SHOW, unqualify_flagged_at=None, start__lt=cutoff)
        .exclude(Exists(later.filter(lead=OuterRef("lead"))))
        .exclude(Exists(later.filter(contact=OuterRef("contact"))))
    )
    batch = settings.JOB_BATCH_SIZE
    flagged = 0
    last: tuple[datetime, int] | None = None
    while True:
        page = waiting
        if last is not None:
            page = after(page, "start", *last)
        rows = list(page.order_by("start", "id").values_list(
            "start", "id", "subject", "lead_id", "opportunity_id", "opportunity__name", "opportunity__owner_id",
            "account__owner_id", "sdr_id")[:batch])
        if not rows:
            return flagged
        last = rows[-1][0], rows[-1][1]
        with transaction.atomic():
            ids = set(waiting.filter(id__in=[row[1] for row in rows]).select_for_update(of=("self",))
                      .values_list("id", flat=True))
            IQM.objects.filter(id__in=ids).update(unqualify_flagged_at=now)
            notes = []
            for start, pk, subject, lead_id, opp_id, opp_name, opp_owner, account_owner, sdr_id in rows:
                if pk not in ids:
                    continue
                what = f"the opportunity {opp_name}" if opp_id else "the lead" if lead_id else "the contact"
                notes.append(notifications.Alert(
                    # The AE decides; without an opportunity, the account's owner, else the SDR.
                    Notification.Kind.NO_SHOW_NOT_REBOOKED, user_id=opp_owner or account_owner or sdr_id,
                    opportunity_id=opp_id, lead_id=lead_id,
                    message=f"{subject} on {start:%Y-%m-%d} was a no-show and has not been rebooked in {days} "
                            f"days: unqualify {what}.",
                ))
            notifications.send(notes)
        flagged += len(ids)
