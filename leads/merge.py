"""Duplicates, merging two leads, and undoing a merge (docs/rules.md §9; handbook inbound-how-tos
"Lead and Database Management": find duplicates, merge keeping the oldest initial source).

A merge keeps the lead the user is on (the survivor): its id, owner and status. The other
lead's rows move to it and the other lead is deleted, leaving a Tombstone whose snapshot
holds everything needed to undo: every field of the merged-away lead, the ids of every
row moved, and the survivor's values before and after the merge.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from typing import Any

from django.db import IntegrityError, transaction
from django.db.models import Model, Q, QuerySet
from django.utils import timezone

from opportunities.models import IQM, Opportunity
from routing import facts as routing
from routing.models import RoutingDecision
from scoring import services as scoring
from scoring.models import ScoreEntry
from sdrcrm.errors import Refused
from sdrcrm.models import Notification, User

from . import domains, lifecycle
from .domains import hash_email
from .models import Activity, CampaignMember, Cause, Contact, Enrollment, Lead, Status, StatusChange, Task, Tombstone

EMAIL = "email"
DOMAIN_LAST_NAME = "domain_last_name"
CONTACT_EMAIL = "contact_email"
KIND_LABELS = {
    EMAIL: "Same email",
    DOMAIN_LAST_NAME: "Same company domain and last name",
    CONTACT_EMAIL: "Contact with the same email",
}
# Duplicates shown per kind: enough to decide, bounded so a big company costs nothing.
DUPLICATE_LIMIT = 20

# Every row that points at a lead, by the name the snapshot files its ids under. A new
# model with a foreign key to Lead must be added here, or a merge would delete its rows
# with the merged-away lead (tests/leads/test_merge.py checks the list is complete).
MOVED_ROWS: dict[str, type[Model]] = {
    "activities": Activity,
    "score_entries": ScoreEntry,
    "status_changes": StatusChange,
    "routing_decisions": RoutingDecision,
    "iqms": IQM,
    "enrollments": Enrollment,
    "opportunities": Opportunity,
    "notifications": Notification,
    "tasks": Task,
    "campaigns": CampaignMember,
}
# Survivor fields left blank that the merged-away lead fills.
FILL_FIELDS = ("first_name", "title", "phone", "company", "country", "state", "city", "employee_count",
               "industry", "lead_source", "account_id")
# Flags either lead passes on: an opt-out or "no longer there" is never lost.
EITHER_FLAGS = ("opted_out", "inactive", "high_priority", "public_sector")
# The survivor fields a merge may change (beyond score and the derived segment/region),
# recorded before and after so undo can put back those nobody changed since.
SURVIVOR_FIELDS = ("initial_source", *lifecycle.MILESTONES, *FILL_FIELDS, "last_interesting_moment",
                   "last_interesting_moment_at", *EITHER_FLAGS, "last_handraise_at", "active_until", "is_passive")
LEAD_FIELDS = {field.attname: field for field in Lead._meta.concrete_fields}


# --- Duplicates -----------------------------------------------------------------------


@dataclass(frozen=True)
class Duplicate:
    kind: str
    person: Lead | Contact

    @property
    def label(self) -> str:
        return KIND_LABELS[self.kind]

    @property
    def is_lead(self) -> bool:
        return isinstance(self.person, Lead)


def duplicate_querysets(lead: Lead, user: User) -> dict[str, QuerySet]:
    """One queryset per kind of match, each scoped to what `user` sees and served by an
    index: emails by the unique email index (emails are stored lower-cased, so the
    lower-cased variant finds other-case copies), domains by the email_domain index.
    Free-mail domains never count as a company domain."""
    email = lead.email.strip().lower()
    variants = sorted({lead.email, email})
    domain = lead.email_domain or domains.email_domain(email)
    company = bool(domain) and not domains.is_free(domain)
    leads = Lead.objects.visible_to(user).exclude(pk=lead.pk).filter(converted_to__isnull=True)
    same_email = Q(email__in=variants)
    if company:
        # A copy stored in another case (an admin edit): found among the company's leads.
        same_email |= Q(email_domain=domain, email__iexact=email)
    querysets: dict[str, QuerySet] = {EMAIL: leads.filter(same_email)}
    last_name = lead.last_name.strip()
    if company and last_name:
        querysets[DOMAIN_LAST_NAME] = leads.filter(email_domain=domain, last_name__iexact=last_name).exclude(
            same_email)
    querysets[CONTACT_EMAIL] = Contact.objects.visible_to(user).filter(email__in=variants)
    return {kind: qs.order_by("created_at", "id") for kind, qs in querysets.items()}


def merges_into(lead: Lead) -> QuerySet[Tombstone]:
    """The merge tombstones of leads merged into `lead` (by the partial index tombstone_merged_into)."""
    return Tombstone.objects.filter(kind=Tombstone.Kind.MERGE, merged_into_id=lead.pk)


def find_duplicates(lead: Lead, user: User, limit: int = DUPLICATE_LIMIT) -> list[Duplicate]:
    """Other leads with the same email, other leads at the same company domain with the
    same last name, and contacts with the same email, oldest first, at most `limit` of
    each kind, among what `user` may see. Converted leads are left out (they live on as
    contacts, found by email)."""
    return [Duplicate(kind, person)
            for kind, queryset in duplicate_querysets(lead, user).items()
            for person in queryset[:limit]]


# --- Merge ------------------------------------------------------------------------------


def _dump(value: Any) -> Any:
    """A field value as JSON (the snapshot); `_load` reads it back."""
    if isinstance(value, datetime | date):
        return value.isoformat()
    if isinstance(value, Decimal):
        return str(value)
    return value


def _load(attname: str, value: Any) -> Any:
    return LEAD_FIELDS[attname].to_python(value)


def _values(lead: Lead, attnames: tuple[str, ...] | list[str]) -> dict[str, Any]:
    return {name: _dump(getattr(lead, name)) for name in attnames}


def _blank(value: Any) -> bool:
    return value is None or value == ""


def check_mergeable(lead: Lead, field: str) -> None:
    if lead.is_converted:
        raise Refused(f"{lead.full_name} (lead {lead.pk}) was converted; it is a contact now and cannot be merged.",
                      field=field)
    if lead.spam_marked_at is not None:
        raise Refused(f"{lead.full_name} (lead {lead.pk}) is marked as spam and will be deleted; "
                      "it cannot be merged.", field=field)


def _combine(keep: Lead, gone: Lead) -> None:
    """Apply docs/rules.md §9's field rules to the survivor (in memory)."""
    # The oldest initial source is the one of the record created first.
    first = min((keep, gone), key=lambda lead: (lead.created_at, lead.pk))
    keep.initial_source = first.initial_source
    for name, value in lifecycle.combined_milestones(keep, gone).items():
        setattr(keep, name, value)
    for name in FILL_FIELDS:
        if _blank(getattr(keep, name)) and not _blank(getattr(gone, name)):
            setattr(keep, name, getattr(gone, name))
    # The latest interesting moment, with its text.
    kept_at, gone_at = keep.last_interesting_moment_at, gone.last_interesting_moment_at
    if gone_at is not None and (kept_at is None or gone_at > kept_at):
        keep.last_interesting_moment = gone.last_interesting_moment
        keep.last_interesting_moment_at = gone.last_interesting_moment_at
    for name in EITHER_FLAGS:
        setattr(keep, name, getattr(keep, name) or getattr(gone, name))


def _finish_active(lead: Lead, reason: str, now: datetime) -> list[int]:
    ids = list(Enrollment.objects.filter(lead=lead, state=Enrollment.State.ACTIVE).values_list("pk", flat=True))
    Enrollment.objects.filter(pk__in=ids).update(state=Enrollment.State.FINISHED, finish_reason=reason,
                                                 finished_at=now)
    return ids


@transaction.atomic
def merge_leads(survivor: Lead, other: Lead, by: User, now: datetime | None = None) -> Tombstone:
    """Merge `other` into `survivor` and delete it, leaving a tombstone that points to
    the survivor; returns the tombstone.

    The survivor keeps its id, owner and status (a merge is no status decision; only
    its re-score may make it MQL, as any new points would). It takes the oldest initial
    source, the earliest `mql_at`, the latest `last_mql_at`, its blanks filled from the
    other, and every flag either has (opt-out, inactive, high priority, public sector).
    Activities, score ledger, status history, routing decisions, IQMs, enrolments,
    opportunities and notifications move to it.
    """
    now = now or timezone.now()
    keep, gone = _lock_pair(survivor, other, by)
    before = _values(keep, SURVIVOR_FIELDS)
    gone_fields = _values(gone, list(LEAD_FIELDS))
    _combine(keep, gone)
    routing.classify(keep)
    keep.save()

    finished: list[int] = []
    # One active sequence per person: the survivor's goes on, the other's is finished first.
    if Enrollment.objects.filter(lead=keep, state=Enrollment.State.ACTIVE).exists():
        finished += _finish_active(gone, Enrollment.FinishReason.MANUAL, now)
    moved: dict[str, list[int]] = {}
    for name, model in MOVED_ROWS.items():
        # _base_manager: a deleted opportunity moves too (docs/rules.md §11.2), never lost.
        rows = model._base_manager.filter(lead=gone)
        if model is CampaignMember:  # on a campaign once: the survivor's own membership stays
            rows = rows.exclude(campaign__in=CampaignMember.objects.filter(lead=keep).values("campaign"))
        ids = list(rows.values_list("pk", flat=True))
        if ids:
            model._base_manager.filter(pk__in=ids).update(lead=keep)
        moved[name] = ids
    # Opted-out or gone people are never sequenced.
    if keep.inactive and not before["inactive"]:
        finished += _finish_active(keep, Enrollment.FinishReason.INACTIVE, now)
    elif keep.opted_out and not before["opted_out"]:
        finished += _finish_active(keep, Enrollment.FinishReason.MANUAL, now)

    scoring.rescore(keep, now=now)
    after = _values(keep, SURVIVOR_FIELDS)
    # The merged behaviour may reach 90 points; like any re-score it never takes MQL away.
    promoted = lifecycle.reaches_mql(keep) and lifecycle.transition(keep, Status.MQL, cause=Cause.MERGE, by=by, now=now)

    tombstone = Tombstone.objects.create(
        kind=Tombstone.Kind.MERGE, original_id=gone.pk, email_hash=hash_email(gone.email),
        email_domain=gone.email_domain or domains.email_domain(gone.email), marked_by=by, marked_at=now,
        deleted_at=now, merged_into_id=keep.pk,
        snapshot={"lead": gone_fields, "moved": moved, "finished_enrollments": finished,
                  "survivor_before": before, "survivor_after": after, "promoted": promoted},
    )
    Lead.objects.filter(pk=gone.pk).delete()
    for name in ("status", "status_reason", "status_changed_at", *lifecycle.MILESTONES, "score"):
        setattr(survivor, name, getattr(keep, name))
    return tombstone


def _lock_pair(survivor: Lead, other: Lead, by: User) -> tuple[Lead, Lead]:
    """Both leads as they are now, locked (in id order, so two merges of the same pair
    cannot deadlock), once `by` may change both and both may be merged."""
    if survivor.pk == other.pk:
        raise Refused("A lead cannot be merged with itself.", field="duplicate")
    locked = {lead.pk: lead for lead in
              Lead.objects.select_for_update().filter(pk__in=(survivor.pk, other.pk)).order_by("pk")}
    if survivor.pk not in locked:
        raise Refused("This lead no longer exists.", field="lead")
    if other.pk not in locked:
        raise Refused(f"Lead {other.pk} no longer exists.", field="duplicate")
    keep, gone = locked[survivor.pk], locked[other.pk]
    editable = set(Lead.objects.editable_by(by).filter(pk__in=(keep.pk, gone.pk)).values_list("pk", flat=True))
    if keep.pk not in editable:
        raise Refused("You may read this lead but not change it, so nothing can be merged into it.",
                      field="lead", status=403)
    if gone.pk not in editable:
        raise Refused(f"You may not change lead {gone.pk}, so it cannot be merged into another.", field="duplicate")
    check_mergeable(keep, "lead")
    check_mergeable(gone, "duplicate")
    return keep, gone


# --- Undo -------------------------------------------------------------------------------


def _existing_references(fields: dict[str, Any]) -> dict[str, Any]:
    """Foreign keys of the snapshot whose row is gone since (an owner deleted, an account
    merged away) become empty instead of failing the undo."""
    for attname, field in LEAD_FIELDS.items():
        if field.is_relation and fields.get(attname) is not None:
            if not field.related_model._default_manager.filter(pk=fields[attname]).exists():
                fields[attname] = None
    return fields


def _reactivate(enrollment_ids: list[int], merged_at: datetime) -> None:
    """Enrolments the merge finished go on again where their person can take them."""
    for enrollment in Enrollment.objects.filter(pk__in=enrollment_ids, state=Enrollment.State.FINISHED,
                                                finished_at=merged_at).select_related("lead").order_by("pk"):
        lead = enrollment.lead
        if lead is None or lead.opted_out or lead.inactive:
            continue
        if not Enrollment.objects.filter(lead=lead, state=Enrollment.State.ACTIVE).exists():
            Enrollment.objects.filter(pk=enrollment.pk).update(state=Enrollment.State.ACTIVE, finish_reason="",
                                                               finished_at=None)


@transaction.atomic
def undo_merge(tombstone: Tombstone, by: User, now: datetime | None = None) -> Lead:
    """Bring a merged-away lead back (ops only): same id and fields, its rows moved back
    from the survivor, the survivor's pre-merge values restored where nobody has changed
    them since, both re-scored. Returns the restored lead."""
    now = now or timezone.now()
    if not by.is_ops:
        raise Refused("Only Sales-Dev Ops may undo a merge.", status=403)
    locked = Tombstone.objects.select_for_update().filter(pk=tombstone.pk, kind=Tombstone.Kind.MERGE).first()
    if locked is None:
        raise Refused("Only a merge can be undone.", field="tombstone")
    if locked.undone_at is not None:
        raise Refused(f"This merge was undone already, on {locked.undone_at:%Y-%m-%d %H:%M}.", field="tombstone")
    keep = Lead.all_objects.select_for_update().filter(pk=locked.merged_into_id).first()
    if keep is not None and keep.deleted_at is not None:
        raise Refused(f"{keep.full_name} (lead {keep.pk}), which this lead was merged into, is deleted; ops may "
                      "restore it from Recently deleted, then undo the merge.", field="tombstone", status=409)
    if keep is None:
        raise Refused(f"Lead {locked.merged_into_id}, which this lead was merged into, no longer exists; "
                      "the merge cannot be undone.", field="tombstone")
    if keep.converted_to_id is not None:
        raise Refused(f"{keep.full_name} (lead {keep.pk}) has been converted since the merge; "
                      "its rows are on the contact now and the merge cannot be undone.", field="tombstone")
    snapshot = locked.snapshot
    fields = _existing_references({name: _load(name, value) for name, value in snapshot["lead"].items()})
    email = fields["email"]
    if Lead.all_objects.filter(email=email).exists():  # a deleted lead's email is taken too
        raise Refused(f"Another lead has the email {email} now; change or merge it before undoing this merge.",
                      field="email")
    restored = Lead(**fields)
    try:
        with transaction.atomic():
            restored.save(force_insert=True)
    except IntegrityError:
        raise Refused(f"Another lead took the email {email} or the id {restored.pk} meanwhile; try again.",
                      field="email", status=409) from None
    # created_at is auto_now_add: the insert stamped it with today.
    Lead.objects.filter(pk=restored.pk).update(created_at=fields["created_at"])
    restored.created_at = fields["created_at"]

    for name, model in MOVED_ROWS.items():
        ids = snapshot["moved"].get(name) or []
        if ids:
            # Only rows still on the survivor: one deleted meanwhile is gone.
            model._base_manager.filter(pk__in=ids, lead=keep).update(lead=restored)

    after = snapshot["survivor_after"]
    keep_mql = bool(snapshot.get("promoted"))  # an MQL the merge caused stands, with its dates
    for name, value in snapshot["survivor_before"].items():
        if keep_mql and name in ("mql_at", "last_mql_at"):
            continue
        if getattr(keep, name) == _load(name, after.get(name)):
            setattr(keep, name, _load(name, value))
    if keep.account_id is not None:
        keep.account_id = _existing_references({"account_id": keep.account_id})["account_id"]
    routing.classify(keep, match=False)
    keep.save()

    _reactivate(snapshot.get("finished_enrollments") or [], locked.deleted_at)
    scoring.rescore(keep, now=now)
    scoring.rescore(restored, now=now)
    Tombstone.objects.filter(pk=locked.pk).update(undone_at=now, undone_by=by)
    tombstone.undone_at, tombstone.undone_by = now, by
    return restored
