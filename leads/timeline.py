"""One timeline per lead or contact: its activities, status changes, field changes,
sequence events, IQMs and (for a lead) routing decisions, newest first, a page at a time.

The order is (time, kind, id), newest first, and the cursor is the last entry's key, so a
page boundary inside rows of the same time skips and repeats none. Each source is read
newest first by its (person, time) index, after the cursor and PAGE + 1 rows at most
(one more tells whether there are more); the rows are merged and cut at PAGE. One query
a source, whatever the history's length."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from itertools import chain

from django.db.models import Q, QuerySet
from django.utils.dateparse import parse_datetime

from opportunities.models import IQM
from routing.models import RoutingDecision
from sdrcrm.ids import as_id
from sdrcrm.models import FieldChange, User

from .models import Lead, Person, SequenceEvent, StatusChange

PAGE = 30


# The order of kinds among entries of the same time (and of their sources below).
KINDS = ("activity", "status", "field", "sequence", "iqm", "routing")


@dataclass(frozen=True)
class Entry:
    at: datetime
    kind: str  # one of KINDS
    id: int
    title: str
    detail: str
    by: str

    @property
    def key(self) -> tuple[datetime, int, int]:
        return self.at, KINDS.index(self.kind), self.id


@dataclass(frozen=True)
class Cursor:
    """The last entry shown: the next page starts strictly after it."""

    at: datetime
    kind: str
    id: int

    def __str__(self) -> str:
        return f"{self.at.isoformat()}|{self.kind}|{self.id}"


def _after(rows: QuerySet, time_field: str, kind: str, cursor: Cursor | None) -> QuerySet:
    """`rows` (all of `kind`) that come after `cursor` in newest-first (time, kind, id) order."""
    if cursor is None:
        return rows
    older = Q(**{f"{time_field}__lt": cursor.at})
    same_time = Q(**{time_field: cursor.at})
    if KINDS.index(kind) < KINDS.index(cursor.kind):
        return rows.filter(older | same_time)
    if kind == cursor.kind:
        return rows.filter(older | (same_time & Q(id__lt=cursor.id)))
    return rows.filter(older)


def _name(user: User | None, fallback: str = "system") -> str:
    return (user.get_full_name() or user.username) if user else fallback


def _activities(person: Person, cursor: Cursor | None) -> list[Entry]:
    rows = _after(person.activities.select_related("created_by"), "occurred_at", "activity", cursor)
    return [Entry(a.occurred_at, "activity", a.pk, a.get_type_display(), a.summary,
                  _name(a.created_by, a.source_system or "—"))
            for a in rows.order_by("-occurred_at", "-id")[:PAGE + 1]]


def _statuses(person: Person, cursor: Cursor | None) -> list[Entry]:
    rows = _after(StatusChange.objects.filter(**{person.PERSON_FIELD: person}).select_related("by"), "at",
                  "status", cursor)
    return [Entry(c.at, "status", c.pk, f"{c.get_old_display() or 'New'} → {c.get_new_display()}",
                  " · ".join(part for part in (c.reason_label, c.get_cause_display()) if part), _name(c.by))
            for c in rows.order_by("-at", "-id")[:PAGE + 1]]


def _fields(person: Person, cursor: Cursor | None) -> list[Entry]:
    rows = _after(FieldChange.objects.filter(record=person._meta.model_name, record_id=person.pk)
                  .select_related("by"), "at", "field", cursor)
    return [Entry(c.at, "field", c.pk, f"{c.field.replace('_', ' ').capitalize()} changed",
                  f"{c.old or '—'} → {c.new or '—'}", _name(c.by))
            for c in rows.order_by("-at", "-id")[:PAGE + 1]]


def _sequence_events(person: Person, cursor: Cursor | None) -> list[Entry]:
    rows = _after(SequenceEvent.objects.filter(**{f"enrollment__{person.PERSON_FIELD}": person})
                  .select_related("enrollment__sequence"), "occurred_at", "sequence", cursor)
    return [Entry(e.occurred_at, "sequence", e.pk,
                  f"{e.enrollment.sequence.name}: {e.get_kind_display().lower()}"
                  + (f" (step {e.step})" if e.step else ""), e.result, "sequencing tool")
            for e in rows.order_by("-occurred_at", "-id")[:PAGE + 1]]


def _iqms(person: Person, cursor: Cursor | None) -> list[Entry]:
    rows = _after(IQM.objects.filter(**{person.PERSON_FIELD: person}).select_related("sdr"), "start", "iqm",
                  cursor)
    return [Entry(m.start, "iqm", m.pk, m.subject, m.get_disposition_display(), _name(m.sdr))
            for m in rows.order_by("-start", "-id")[:PAGE + 1]]


def _routing(person: Person, cursor: Cursor | None) -> list[Entry]:
    if not isinstance(person, Lead):
        return []
    rows = _after(RoutingDecision.objects.filter(lead=person), "at", "routing", cursor)
    return [Entry(d.at, "routing", d.pk, "Routed", d.reason, "routing") for d in rows.order_by("-at", "-id")[:PAGE + 1]]


SOURCES = (_activities, _statuses, _fields, _sequence_events, _iqms, _routing)


def timeline(person: Person, cursor: Cursor | None = None) -> tuple[list[Entry], Cursor | None]:
    """A page of the person's history after `cursor` (newest first), and the cursor of
    the next page (None on the last)."""
    merged = sorted(chain.from_iterable(source(person, cursor) for source in SOURCES),
                    key=lambda entry: entry.key, reverse=True)
    page = merged[:PAGE]
    if len(merged) <= PAGE:
        return page, None
    last = page[-1]
    return page, Cursor(last.at, last.kind, last.id)


def parse_cursor(text: str) -> Cursor | None:
    """A cursor from its text ("<ISO time>|<kind>|<id>"); None if it is not one."""
    parts = text.split("|")
    if len(parts) != 3 or parts[1] not in KINDS or (pk := as_id(parts[2])) is None:
        return None
    try:
        at = parse_datetime(parts[0])
    except ValueError:
        return None
    if at is None or at.tzinfo is None:
        return None
    return Cursor(at, parts[1], pk)
