"""Bulk actions on the records chosen on a list (docs/rules.md §8): on leads and contacts,
assign an owner (managers and ops), change the status with its reason, enrol in a
sequence; on accounts, mark or unmark targeted; on opportunities, assign the owner. Each
record goes through the same service as its own page (update_person, lifecycle.transition,
sequences.enroll, accounts.set_targeted, update_opportunity) in its own transaction, so
one refusal never undoes the others; each row's outcome is kept in words, and the
BulkAction row is the action's audit line.

Up to BULK_ACTION_INLINE records run in the request; more run as a Celery task, which
writes its progress after every CHUNK rows (the page polls it) and, if a worker is lost,
resumes after the last row it recorded."""

from __future__ import annotations

from collections.abc import Sequence as Seq
from dataclasses import dataclass
from typing import Any

from django.conf import settings
from django.db import models, transaction
from django.utils import timezone

from opportunities import services as opportunity_services
from opportunities.models import Opportunity
from sdrcrm.celery import enqueue
from sdrcrm.errors import Refused
from sdrcrm.models import User
from sdrcrm.webhooks import AssignCause

from . import accounts, checks, lifecycle, people, sequences
from .models import REQUIRED_REASONS, Account, BulkAction, Contact, Lead, Sequence, Status

CHUNK = 100
DONE, REFUSED = "done", "refused"
Kind, Record = BulkAction.Kind, BulkAction.Record


@dataclass(frozen=True)
class Records:
    """One list's records: their model and the actions offered on them."""

    model: type[models.Model]
    kinds: tuple[str, ...]


RECORDS = {
    Record.LEAD: Records(Lead, (Kind.ASSIGN, Kind.STATUS, Kind.ENROL)),
    Record.CONTACT: Records(Contact, (Kind.ASSIGN, Kind.STATUS, Kind.ENROL)),
    Record.ACCOUNT: Records(Account, (Kind.TARGET, Kind.UNTARGET)),
    Record.OPPORTUNITY: Records(Opportunity, (Kind.ASSIGN,)),
}
# Flagging an account targeted is an SDR's own act on any account they see (set_targeted
# holds who may); the other actions change the record, so they need the right to edit it.
READ_ONLY_KINDS = frozenset({Kind.TARGET, Kind.UNTARGET})


def kinds_for(record: str) -> list[tuple[str, str]]:
    """The actions a list offers, as (value, label) for its select."""
    return [(kind, Kind(kind).label) for kind in RECORDS[record].kinds]


def start(record: str, kind: str, params: dict[str, Any], ids: Seq[int], by: User) -> BulkAction:
    """Check the action and its selection, record it, and run it (now, or on a worker
    for a big selection). Refused, with nothing written, when the action itself is not
    allowed; a record it cannot apply to is refused in its own row."""
    records = RECORDS[Record(record)]
    ids = list(dict.fromkeys(int(pk) for pk in ids))
    if not ids:
        raise Refused(f"Select at least one {record}.", field="record")
    limit = settings.BULK_ACTION_LIMIT
    if len(ids) > limit:
        raise Refused(f"At most {limit:,} {record}s at once; narrow the filter.", field="record")
    if kind not in records.kinds:
        raise Refused(f"Pick an action: {', '.join(label.lower() for _, label in kinds_for(record))}.", field="kind")
    params, summary = _check(record, kind, params, by)
    bulk = BulkAction.objects.create(record=record, kind=kind, params=params, summary=summary, record_ids=ids,
                                     by=by, total=len(ids))
    if len(ids) <= settings.BULK_ACTION_INLINE:
        run(bulk.pk)
        bulk.refresh_from_db()
    else:
        enqueue("leads.tasks.run_bulk_action", bulk.pk)
    return bulk


def _check(record: str, kind: str, params: dict[str, Any], by: User) -> tuple[dict[str, Any], str]:
    """The action's parameters, checked once for all rows, and the action in words."""
    if kind == Kind.ASSIGN:
        if not (by.is_manager or by.is_ops):
            raise Refused(f"Only managers and ops assign {record}s in bulk.", field="kind")
        owner = User.objects.filter(pk=params.get("owner") or 0, is_active=True).first()
        if owner is None:
            raise Refused(f"Pick the active user who gets the {record}s.", field="owner")
        if record != Record.OPPORTUNITY:  # who may own a deal depends on its stage: each row's check
            checks.check_owner_assignable(owner, by)
        return {"owner": owner.pk}, f"Assign to {owner.get_full_name() or owner.username}"
    if kind == Kind.STATUS:
        status, reason = params.get("status") or "", params.get("reason") or ""
        if status not in Status.values:
            raise Refused("Pick the new status.", field="status")
        reasons = REQUIRED_REASONS.get(status)
        if reasons is not None and reason not in reasons.values:
            raise Refused(f"{Status(status).label} needs a reason: {', '.join(reasons.labels)}.", field="reason")
        said = f" ({reasons(reason).label})" if reasons is not None else ""
        return {"status": status, "reason": reason if reasons else ""}, f"Status to {Status(status).label}{said}"
    if kind == Kind.ENROL:
        sequence = Sequence.objects.filter(pk=params.get("sequence") or 0).first()
        if sequence is None:
            raise Refused(f"Pick the sequence to enrol the {record}s in.", field="sequence")
        return {"sequence": sequence.pk}, f"Enrol in {sequence.name}"
    if not accounts.may_target(by):
        raise Refused("Only sales development flags targeted accounts.", field="kind")
    return {}, Kind(kind).label


def run(bulk_id: int) -> BulkAction | None:
    """Apply the action to the rows not done yet, CHUNK rows at a time."""
    bulk = BulkAction.objects.select_related("by").filter(pk=bulk_id).first()
    if bulk is None or bulk.state == BulkAction.State.FINISHED:
        return bulk
    BulkAction.objects.filter(pk=bulk.pk).update(state=BulkAction.State.RUNNING)
    model = RECORDS[Record(bulk.record)].model
    target = _target(bulk)
    results = list(bulk.results)
    remaining = bulk.record_ids[len(results):]
    for start_at in range(0, len(remaining), CHUNK):
        chunk = remaining[start_at:start_at + CHUNK]
        visible = model.objects.visible_to(bulk.by).select_related("owner").in_bulk(chunk)
        editable = set(model.objects.editable_by(bulk.by).filter(pk__in=chunk).values_list("pk", flat=True))
        for pk in chunk:
            results.append([pk, *_one(bulk, visible.get(pk), pk in editable, target)])
        _save_progress(bulk.pk, results)
    BulkAction.objects.filter(pk=bulk.pk).update(state=BulkAction.State.FINISHED, finished_at=timezone.now())
    bulk.refresh_from_db()
    return bulk


def _target(bulk: BulkAction) -> Any:
    if bulk.kind == Kind.ASSIGN:
        return User.objects.get(pk=bulk.params["owner"])
    if bulk.kind == Kind.ENROL:
        return Sequence.objects.get(pk=bulk.params["sequence"])
    return None


def _one(bulk: BulkAction, record: Any, editable: bool, target: Any) -> tuple[str, str]:
    """(outcome, what happened or the rule that refused it) for one record."""
    if record is None:
        return REFUSED, f"No such {bulk.record}, or not one you may see."
    if not editable and bulk.kind not in READ_ONLY_KINDS:
        return REFUSED, f"You may read this {bulk.record} but not change it."
    if isinstance(record, Lead) and record.converted_to_id is not None:
        return REFUSED, "Converted: work its contact instead."
    try:
        with transaction.atomic():
            return DONE, _apply(bulk, record, target)
    except Refused as exc:
        return REFUSED, exc.message


def _apply(bulk: BulkAction, record: Any, target: Any) -> str:
    by = bulk.by
    if bulk.kind == Kind.ASSIGN:
        if record.owner_id == target.pk:
            return "Already theirs."
        if isinstance(record, Opportunity):
            opportunity_services.update_opportunity(record, {"owner": target}, by)
        else:
            people.update_person(record, {"owner": target}, by, cause=AssignCause.BULK)
        return f"Given to {target.get_full_name() or target.username}."
    if bulk.kind == Kind.STATUS:
        if not lifecycle.transition(record, bulk.params["status"], reason=bulk.params["reason"], by=by):
            raise Refused("Its status changed meanwhile; nothing done.")
        return f"Now {record.get_status_display()}."
    if bulk.kind == Kind.ENROL:
        _, warnings = sequences.enroll(record, target, by)
        return " ".join([f"Enrolled in {target.name}.", *warnings])
    flag = bulk.kind == Kind.TARGET
    if not accounts.set_targeted(record, flag, by=by):
        return "Already targeted." if flag else "Was not targeted."
    return "Targeted." if flag else "No longer targeted."


def _save_progress(bulk_id: int, results: list[list[Any]]) -> None:
    refused = sum(1 for row in results if row[1] == REFUSED)
    BulkAction.objects.filter(pk=bulk_id).update(results=results, done=len(results) - refused, refused=refused)
