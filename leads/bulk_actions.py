"""Bulk actions on the leads chosen on the lead list (docs/rules.md §8): assign an owner
(managers and ops), change the status with its reason, enrol in a sequence. Each lead goes
through the same service as its own page (update_person, lifecycle.transition,
sequences.enroll) in its own transaction, so one refusal never undoes the others; each
row's outcome is kept in words, and the BulkAction row is the action's audit line.

Up to BULK_ACTION_INLINE leads run in the request; more run as a Celery task, which
writes its progress after every CHUNK rows (the page polls it) and, if a worker is lost,
resumes after the last row it recorded."""

from __future__ import annotations

from collections.abc import Sequence as Seq
from typing import Any

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from sdrcrm.celery import enqueue
from sdrcrm.errors import Refused
from sdrcrm.models import User

from . import checks, lifecycle, people, sequences
from .models import REQUIRED_REASONS, BulkAction, Lead, Sequence, Status

CHUNK = 100
DONE, REFUSED = "done", "refused"


def start(kind: str, params: dict[str, Any], lead_ids: Seq[int], by: User) -> BulkAction:
    """Check the action and its selection, record it, and run it (now, or on a worker
    for a big selection). Refused, with nothing written, when the action itself is not
    allowed; a lead it cannot apply to is refused in its own row."""
    ids = list(dict.fromkeys(int(pk) for pk in lead_ids))
    if not ids:
        raise Refused("Select at least one lead.", field="lead")
    limit = settings.BULK_ACTION_LIMIT
    if len(ids) > limit:
        raise Refused(f"At most {limit:,} leads at once; narrow the filter.", field="lead")
    params, summary = _check(kind, params, by)
    bulk = BulkAction.objects.create(kind=kind, params=params, summary=summary, lead_ids=ids, by=by, total=len(ids))
    if len(ids) <= settings.BULK_ACTION_INLINE:
        run(bulk.pk)
        bulk.refresh_from_db()
    else:
        enqueue("leads.tasks.run_bulk_action", bulk.pk)
    return bulk


def _check(kind: str, params: dict[str, Any], by: User) -> tuple[dict[str, Any], str]:
    """The action's parameters, checked once for all rows, and the action in words."""
    if kind == BulkAction.Kind.ASSIGN:
        if not (by.is_manager or by.is_ops):
            raise Refused("Only managers and ops assign leads in bulk.", field="kind")
        owner = User.objects.filter(pk=params.get("owner") or 0, is_active=True).first()
        if owner is None:
            raise Refused("Pick the active user who gets the leads.", field="owner")
        checks.check_owner_assignable(owner, by)
        return {"owner": owner.pk}, f"Assign to {owner.get_full_name() or owner.username}"
    if kind == BulkAction.Kind.STATUS:
        status, reason = params.get("status") or "", params.get("reason") or ""
        if status not in Status.values:
            raise Refused("Pick the new status.", field="status")
        reasons = REQUIRED_REASONS.get(status)
        if reasons is not None and reason not in reasons.values:
            raise Refused(f"{Status(status).label} needs a reason: {', '.join(reasons.labels)}.", field="reason")
        said = f" ({reasons(reason).label})" if reasons is not None else ""
        return {"status": status, "reason": reason if reasons else ""}, f"Status to {Status(status).label}{said}"
    if kind == BulkAction.Kind.ENROL:
        sequence = Sequence.objects.filter(pk=params.get("sequence") or 0).first()
        if sequence is None:
            raise Refused("Pick the sequence to enrol the leads in.", field="sequence")
        return {"sequence": sequence.pk}, f"Enrol in {sequence.name}"
    raise Refused("Pick an action: assign owner, change status or enrol in a sequence.", field="kind")


def run(bulk_id: int) -> BulkAction | None:
    """Apply the action to the rows not done yet, CHUNK rows at a time."""
    bulk = BulkAction.objects.select_related("by").filter(pk=bulk_id).first()
    if bulk is None or bulk.state == BulkAction.State.FINISHED:
        return bulk
    BulkAction.objects.filter(pk=bulk.pk).update(state=BulkAction.State.RUNNING)
    target = _target(bulk)
    results = list(bulk.results)
    remaining = bulk.lead_ids[len(results):]
    for start_at in range(0, len(remaining), CHUNK):
        chunk = remaining[start_at:start_at + CHUNK]
        visible = Lead.objects.visible_to(bulk.by).select_related("owner").in_bulk(chunk)
        editable = set(Lead.objects.editable_by(bulk.by).filter(pk__in=chunk).values_list("pk", flat=True))
        for pk in chunk:
            results.append([pk, *_one(bulk, visible.get(pk), pk in editable, target)])
        _save_progress(bulk.pk, results)
    BulkAction.objects.filter(pk=bulk.pk).update(state=BulkAction.State.FINISHED, finished_at=timezone.now())
    bulk.refresh_from_db()
    return bulk


def _target(bulk: BulkAction) -> Any:
    if bulk.kind == BulkAction.Kind.ASSIGN:
        return User.objects.get(pk=bulk.params["owner"])
    if bulk.kind == BulkAction.Kind.ENROL:
        return Sequence.objects.get(pk=bulk.params["sequence"])
    return None


def _one(bulk: BulkAction, lead: Lead | None, editable: bool, target: Any) -> tuple[str, str]:
    """(outcome, what happened or the rule that refused it) for one lead."""
    if lead is None:
        return REFUSED, "No such lead, or not one you may see."
    if not editable:
        return REFUSED, "You may read this lead but not change it."
    if lead.converted_to_id is not None:
        return REFUSED, "Converted: work its contact instead."
    try:
        with transaction.atomic():
            return DONE, _apply(bulk, lead, target)
    except Refused as exc:
        return REFUSED, exc.message


def _apply(bulk: BulkAction, lead: Lead, target: Any) -> str:
    by = bulk.by
    if bulk.kind == BulkAction.Kind.ASSIGN:
        if lead.owner_id == target.pk:
            return "Already theirs."
        people.update_person(lead, {"owner": target}, by)
        return f"Given to {target.get_full_name() or target.username}."
    if bulk.kind == BulkAction.Kind.STATUS:
        if not lifecycle.transition(lead, bulk.params["status"], reason=bulk.params["reason"], by=by):
            raise Refused("Its status changed meanwhile; nothing done.")
        return f"Now {lead.get_status_display()}."
    _, warnings = sequences.enroll(lead, target, by)
    return " ".join([f"Enrolled in {target.name}.", *warnings])


def _save_progress(bulk_id: int, results: list[list[Any]]) -> None:
    refused = sum(1 for row in results if row[1] == REFUSED)
    BulkAction.objects.filter(pk=bulk_id).update(results=results, done=len(results) - refused, refused=refused)
