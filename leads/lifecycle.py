"""The status machine of leads and contacts (docs/rules.md §3), once.

`transition()` checks a move against the status map, the actor and the reasons, then
calls `move_status()`, the one function that writes a status: a conditional update and
its history row. Callers whose move is a rule of their own call `move_status()` directly:
conversion (Qualified), merge (a survivor that reaches MQL), and the score-driven moves
below, which `check_move()` has checked. Bulk ingest, which writes whole batches at once,
builds its rows from the same `status_fields()` and `history_values()`.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from django.conf import settings
from django.db import models, transaction
from django.utils import timezone

from scoring import services as scoring
from scoring.models import ScoringRuleChange
from sdrcrm import webhooks
from sdrcrm.bulk_insert import new_row
from sdrcrm.errors import Refused
from sdrcrm.models import User

from . import queries
from .models import (
    OPEN_STATUSES,
    REQUIRED_REASONS,
    TRANSITIONS,
    ActivityType,
    Cause,
    Lead,
    Person,
    Status,
    StatusChange,
    UnqualifiedReason,
)

A = ActivityType
# A form fill, attendance or download makes a raw lead an inquiry (docs/rules.md §1).
INQUIRY_TYPES = frozenset({
    A.TRIAL_REQUEST, A.CONTACT_REQUEST, A.PROFESSIONAL_SERVICES_REQUEST, A.WEBCAST_ATTENDED_HIGH_INTENT,
    A.WEBCAST_ATTENDED_LOW_INTENT, A.WEBCAST_REGISTERED, A.ONDEMAND_WATCHED_HIGH_INTENT,
    A.ONDEMAND_WATCHED_LOW_INTENT, A.LIVE_EVENT_ATTENDED, A.BOOTH_VISIT, A.GATED_ASSET_DOWNLOAD,
})
# A score of 90 makes these MQL; later statuses keep theirs.
MQL_FROM = frozenset({Status.RAW, Status.INQUIRY, Status.RECYCLE, Status.UNRESPONSIVE})


def transition(
    person: Person,
    new: str,
    *,
    reason: str = "",
    cause: str = Cause.MANUAL,
    by: User | None = None,
    now: datetime | None = None,
) -> bool:
    """Move a lead or contact to `new` if the status map allows it; refuse otherwise.

    Returns False (and writes nothing) when the record is no longer in the status it was
    read in, so a repeated or racing call changes nothing twice.
    """
    check_move(person, new, reason, by)
    return move_status(person, new, reason=reason, cause=cause, by=by, now=now)


# The statuses, and the reasons each move that needs one takes, as sets: an enum's
# `values` builds its list (and the labels) again on every read.
STATUS_VALUES = frozenset(Status.values)
REASON_VALUES = {status: frozenset(choices.values) for status, choices in REQUIRED_REASONS.items()}


def check_move(person: Person, new: str, reason: str, by: User | None) -> None:
    """Refuse a move the status map, the actor or the reasons do not allow."""
    if new == Status.QUALIFIED:
        raise Refused("A lead becomes Qualified only by converting it.", field="status")
    old = person.status
    if new not in STATUS_VALUES:
        raise Refused(f"'{new}' is not a status.", field="status")
    if new not in TRANSITIONS[old]:
        raise Refused(f"A record cannot move from {Status(old).label} to {Status(new).label}.", field="status")
    if old == Status.UNQUALIFIED and by is not None and not (by.is_ops or by.is_manager):
        raise Refused("Only managers and ops can reopen an Unqualified record.", field="status")
    choices = REQUIRED_REASONS.get(new)
    if choices is not None and reason not in REASON_VALUES[new]:
        raise Refused(
            f"Moving to {Status(new).label} needs a reason: one of "
            f"{', '.join(f'{value} ({label})' for value, label in choices.choices)}.",
            field="reason",
        )


def move_status(person: Person, new: str, *, reason: str = "", cause: str, by: User | None = None,
                now: datetime | None = None, also: dict[str, Any] | None = None,
                rows: Sequence[models.Model] = ()) -> bool:
    """Write the move, unchecked: the status fields if the record is still in the status
    it was read in, then its history row. `also`: more fields to write in the same update
    (saved even when the move is not made); their values are already on `person`. `rows`:
    new rows to insert with it, moved or not (a re-score's ledger entries)."""
    old = person.status
    now = now or timezone.now()
    updates = {**status_fields(person, new, reason, now), "updated_at": now}
    model = type(person)
    history = new_row(StatusChange, **history_values(person.PERSON_FIELD, person.pk, old, new, reason, cause,
                                                     by.pk if by else None, now))
    with transaction.atomic(savepoint=False):
        # The update and its history row in one statement on PostgreSQL (leads/queries.py).
        if not queries.move_person(model, person.pk, old, {**(also or {}), **updates}, history, rows=rows):
            if also:
                queries.update_person(model, person.pk, also)
            return False
        if person.PERSON_FIELD == "lead":
            webhooks.emit("lead.status_changed", [webhooks.status_data(person.pk, old, new, reason, cause, now)], now)
    for field, value in updates.items():
        setattr(person, field, value)
    if new == Status.RECYCLE:
        scoring.rescore(person, now=now)  # behaviour points start again from zero
    return True


def status_fields(person: Person, new: str, reason: str, now: datetime) -> dict[str, Any]:
    """What moving `person` to `new` writes on the record (history aside)."""
    fields: dict[str, Any] = {"status": new, "status_reason": reason, "status_changed_at": now}
    if new == Status.MQL:
        fields["last_mql_at"] = now
        if person.mql_at is None:
            fields["mql_at"] = now
    first = FIRST_TIMES.get(new)
    if first and getattr(person, first) is None:
        fields[first] = now
    if new == Status.RECYCLE:
        fields["behaviour_counted_since"] = now  # behaviour points start again from zero
    return fields


def history_values(person_field: str, person_id: int, old: str, new: str, reason: str, cause: str,
                   by_id: int | None, at: datetime) -> dict[str, Any]:
    """A StatusChange row's columns (by attname) for one move."""
    return {"lead_id": person_id if person_field == "lead" else None,
            "contact_id": person_id if person_field == "contact" else None,
            "old": old, "new": new, "reason": reason, "cause": cause, "by_id": by_id, "at": at}


# --- Moves the score and the behaviour make --------------------------------------------


def advance(person: Person, new_types: set[str]) -> tuple[dict[str, Any], tuple[str, str] | None]:
    """What a re-scored person's latest behaviour and score call for: the fields it sets
    (in memory too: an unsubscribe opts out) and the status move (new status, reason), if
    any. Single ingest (leads.services.score_and_advance) and bulk ingest's in-memory
    replay (leads/bulk.py) both take their step from here."""
    changes: dict[str, Any] = {}
    if A.EMAIL_UNSUBSCRIBE in new_types:
        changes["opted_out"] = person.opted_out = True
    return changes, score_move(person, new_types)


def score_move(person: Person, new_types: set[str]) -> tuple[str, str] | None:
    """The status move (new status, reason) a re-scored person's latest behaviour and
    score call for, if any: at most one, since inquiry is below 90 points and MQL at 90."""
    if A.EMAIL_UNSUBSCRIBE in new_types:
        return (Status.UNQUALIFIED, UnqualifiedReason.UNSUBSCRIBE) if person.status in OPEN_STATUSES else None
    if person.status == Status.RAW and new_types & INQUIRY_TYPES and person.score < settings.MQL_THRESHOLD:
        return Status.INQUIRY, ""
    if reaches_mql(person):
        return Status.MQL, ""
    return None


def reaches_mql(person: Person) -> bool:
    """docs/rules.md §1: 90 points make a raw, inquiry, recycled or unresponsive person MQL."""
    return person.status in MQL_FROM and person.score >= settings.MQL_THRESHOLD


def promote_to_mql(person: Person, now: datetime | None = None) -> bool:
    check_move(person, Status.MQL, "", None)
    return move_status(person, Status.MQL, cause=Cause.SCORE, now=now)


@transaction.atomic
def rescore_change_batch(change_id: int, batch: int, now: datetime | None = None) -> bool:
    """Re-score the next `batch` of the people a scoring-rule change touches, and record
    the change's progress in the same transaction; True while more remain. Two tasks for
    one change (one sent again after it seemed lost) take turns on the change's row, so
    no batch is done twice and none is skipped."""
    change = (ScoringRuleChange.objects.select_for_update(of=("self",)).select_related("rule")
              .filter(pk=change_id, rescored_at__isnull=True).first())
    if change is None:
        return False
    now = now or timezone.now()
    ids = scoring.people_to_rescore(change.rule.activity_type, change.rescored_through, batch)
    if ids:
        rescore_leads(ids, scoring.load_rules())
        change.rescored_through = ids[-1]
    if len(ids) < batch:
        change.rescored_at = now
    change.progressed_at = now
    change.save(update_fields=["rescored_through", "rescored_at", "progressed_at"])
    return change.rescored_at is None


@transaction.atomic
def rescore_leads(ids: list[int], rules: Sequence[Any]) -> None:
    """Re-score leads after a rule change: a re-score may make a lead MQL, never less."""
    for lead in Lead.objects.filter(pk__in=ids).order_by("pk"):
        scoring.rescore(lead, rules=rules)
        if reaches_mql(lead):
            promote_to_mql(lead)


# The first time a person reached a status, written by the move (status_fields).
FIRST_TIMES = {Status.ACCEPTED: "accepted_at", Status.QUALIFYING: "qualifying_at"}
MILESTONES = ("mql_at", "last_mql_at", *FIRST_TIMES.values())


def combined_milestones(a: Person, b: Person) -> dict[str, datetime | None]:
    """When two records become one (merge, conversion into a contact): the first MQL, the
    first Accepted and the first Qualifying are the earlier of the two, the last MQL the later."""
    combined: dict[str, datetime | None] = {
        name: min((t for t in (getattr(a, name), getattr(b, name)) if t), default=None)
        for name in MILESTONES}
    combined["last_mql_at"] = max((t for t in (a.last_mql_at, b.last_mql_at) if t), default=None)
    return combined
