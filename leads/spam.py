"""Spam (docs/rules.md §3): a person marks a lead, the nightly `spam_deletion` job deletes it for
good, keeping a tombstone without personal data in clear text, and may put its email
domain on the block list, after which ingesting a lead from it answers 400."""

from __future__ import annotations

from datetime import datetime

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from sdrcrm import config
from sdrcrm.errors import Refused
from sdrcrm.models import User

from . import domains, lifecycle, sequences
from .domains import hash_email
from .models import OPEN_STATUSES, BlockedDomain, Cause, Lead, Status, Tombstone, UnqualifiedReason


def may_mark_spam(user: User, lead: Lead, editable: bool | None = None) -> bool:
    """Managers and ops (for the leads they may change), and the SDR who owns the lead.
    A deletion cannot be undone, so a queued lead nobody owns is not an SDR's to mark.
    `editable`: whether the caller already knows `user` may change the lead."""
    if editable is None:
        editable = Lead.objects.editable_by(user).filter(pk=lead.pk).exists()
    if not editable:
        return False
    return user.is_ops or user.is_manager or (user.is_prospector and lead.owner_id == user.pk)


@transaction.atomic
def mark_spam(lead: Lead, by: User | None, block_domain: bool, now: datetime | None = None,
              editable: bool | None = None) -> bool:
    """Mark `lead` for tonight's spam deletion and close it as Unqualified (spam) if it is
    open. Marking again changes nothing but the block-domain choice. Returns True when
    this call marked it. `editable`: as for may_mark_spam."""
    if by is not None and not may_mark_spam(by, lead, editable=editable):
        raise Refused("Only the lead's owner, their manager or ops may mark it as spam.", status=403)
    now = now or timezone.now()
    if lead.is_converted:
        raise Refused("A converted lead is a contact now; it cannot be deleted as spam.", field="lead")
    domain = lead.email_domain or domains.email_domain(lead.email)
    if block_domain and domains.is_free(domain):
        raise Refused(f"'{domain}' is a free-mail domain and is never blocked; mark the lead without blocking it.",
                      field="block_domain")
    marked = bool(Lead.objects.filter(pk=lead.pk, spam_marked_at__isnull=True).update(
        spam_marked_at=now, spam_marked_by=by, spam_block_domain=block_domain, updated_at=now))
    if not marked:
        Lead.objects.filter(pk=lead.pk).update(spam_block_domain=block_domain)
    lead.refresh_from_db(fields=["spam_marked_at", "spam_marked_by", "spam_block_domain", "status"])
    if lead.status in OPEN_STATUSES:
        lifecycle.transition(lead, Status.UNQUALIFIED, reason=UnqualifiedReason.SPAM, cause=Cause.MANUAL, by=by,
                            now=now)
    sequences.finish_enrollments(lead, sequences.Reason.MANUAL, now)  # nobody sequences spam
    return marked


def delete_marked_spam(now: datetime) -> dict[str, int]:
    """`spam_deletion` (nightly, 00:05 Los Angeles): leads marked before `now` are deleted
    with everything hanging off them (activities, history, score ledger, routing decisions,
    enrolments, notifications), a batch per transaction, each leaving a tombstone; the
    domains marked for blocking go on the block list (free-mail domains never do)."""
    counts = {"deleted": 0, "tombstones": 0, "domains_blocked": 0}
    # all_objects: a marked lead deleted meanwhile (docs/rules.md §11.2) still goes tonight.
    marked = Lead.all_objects.filter(spam_marked_at__isnull=False, spam_marked_at__lt=now)
    while True:
        with transaction.atomic():
            # Deleted rows leave the partial index, so each batch starts afresh; rows a
            # concurrent run holds are skipped, not waited for (and not deleted twice).
            rows = list(
                marked.select_for_update(skip_locked=True).order_by("spam_marked_at", "id")
                .values_list("id", "email", "email_domain", "spam_marked_by_id", "spam_marked_at",
                             "spam_block_domain")[: settings.JOB_BATCH_SIZE]
            )
            if not rows:
                return counts
            tombstones, blocks = [], {}
            for pk, email, domain, marked_by, marked_at, block in rows:
                domain = domain or domains.email_domain(email)
                tombstones.append(Tombstone(kind=Tombstone.Kind.SPAM, original_id=pk, email_hash=hash_email(email),
                                            email_domain=domain, marked_by_id=marked_by, marked_at=marked_at,
                                            deleted_at=now))
                if block and domain and not domains.is_free(domain):
                    blocks.setdefault(domain, (pk, marked_by, marked_at))
            Tombstone.objects.bulk_create(tombstones)
            if blocks:
                known = set(BlockedDomain.objects.filter(domain__in=blocks).values_list("domain", flat=True))
                BlockedDomain.objects.bulk_create(
                    [BlockedDomain(domain=domain, created_by_id=marked_by,
                                   reason=f"Spam: lead {pk} marked {marked_at:%Y-%m-%d}")
                     for domain, (pk, marked_by, marked_at) in blocks.items() if domain not in known],
                    ignore_conflicts=True,
                )
                if blocks.keys() - known:
                    config.changed()  # the block list is cached configuration; bulk_create sends no signal
                counts["domains_blocked"] += len(blocks.keys() - known)
            # The ORM's cascade (no row here PROTECTs a lead); .only: it reads each lead first.
            doomed = Lead.all_objects.filter(id__in=[row[0] for row in rows]).only("id")
            deleted = doomed.delete()[1].get("leads.Lead", 0)
        counts["deleted"] += deleted
        counts["tombstones"] += len(tombstones)
