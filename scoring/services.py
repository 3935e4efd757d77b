"""Scores as a ledger: rescore() works out what a person's points should be from the
rules and their facts, and writes the difference as new ledger rows. Running it twice
writes nothing the second time; a rule change writes the corrections with the new
rule version."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from django.conf import settings
from django.db import transaction
from django.db.models import QuerySet, Sum
from django.utils import timezone
from django.utils.dateparse import parse_date, parse_datetime

from leads.models import Activity, ActivityType, Contact, Lead, Person
from sdrcrm import config
from sdrcrm.bulk_insert import insert_few, new_row
from sdrcrm.celery import enqueue

from . import queries
from . import rules as engine
from .models import ScoreEntry, ScoringRule, ScoringRuleChange

A = ActivityType
HANDRAISE_TYPES = frozenset({A.TRIAL_REQUEST, A.CONTACT_REQUEST, A.PROFESSIONAL_SERVICES_REQUEST,
                             A.WEBCAST_ATTENDED_HIGH_INTENT, A.WEB_CHAT})
TRIAL_DAYS = 30
AFTER_TRIAL_DAYS = 30


def load_rules() -> Sequence[engine.Rule]:
    """The scoring rules, from the per-process configuration cache."""
    return config.get("scoring_rules")


def read_rules() -> tuple[engine.Rule, ...]:
    return tuple(rule.as_rule() for rule in ScoringRule.objects.all())


@dataclass
class ActivityRow:
    id: int
    type: str
    occurred_at: datetime
    details: dict[str, Any]


def _activities(person: Person) -> list[ActivityRow]:
    return [ActivityRow(*row) for row in queries.activities_of(person.PERSON_FIELD, person.pk)]


def rescore(person: Person, rules: Sequence[engine.Rule] | None = None, now: datetime | None = None,
            activities: list[ActivityRow] | None = None) -> int:
    """Bring the person's ledger and score in line with the rules; return the score."""
    updates = rescore_ledger(person, rules, now, activities)
    if updates:
        type(person).objects.filter(pk=person.pk).update(**updates)
    return person.score


def rescore_ledger(person: Person, rules: Sequence[engine.Rule] | None = None, now: datetime | None = None,
                   activities: list[ActivityRow] | None = None, new: bool = False,
                   read: queries.Read | None = None) -> dict[str, Any]:
    """rescore() but for saving the person: writes the ledger rows, sets the person's
    score and engagement fields in memory, and returns those that changed for the caller
    to save in its own update. `new`: the person was created in this transaction with the
    ledger rows new_ledger gave it, and has no activities yet: nothing to write or change.
    `read`: the person's activities and ledger sums as record_activity read them with its
    insert (queries.insert_activity_and_read)."""
    updates, rows = rescore_changes(person, rules, now, activities, new, read)
    write_ledger(rows)
    return updates


def rescore_changes(person: Person, rules: Sequence[engine.Rule] | None = None, now: datetime | None = None,
                    activities: list[ActivityRow] | None = None, new: bool = False,
                    read: queries.Read | None = None) -> tuple[dict[str, Any], list[ScoreEntry]]:
    """rescore_ledger() without the writing: the person's changed fields (set in memory
    too) and the new ledger rows, for a caller that writes both in its own statement
    (leads.services.score_and_advance, with the person's update)."""
    if new:
        return {}, []
    now = now or timezone.now()
    rules = load_rules() if rules is None else rules
    field = person.PERSON_FIELD
    sums: list[list[Any]] = []
    if person.pk is not None:
        if activities is None:
            found, sums = read or queries.activities_and_ledger_sums(field, person.pk)
            activities = [ActivityRow(*row) for row in found]
        else:
            sums = queries.ledger_sums(field, person.pk)
    activities = _activities(person) if activities is None else activities
    facts = [engine.ActivityFact(a.id, a.type, a.occurred_at) for a in activities]
    total, awards = engine.score(_profile(person), facts, rules, person.behaviour_counted_since)

    rows = _ledger_rows(person, rules, awards, sums, now)
    updates: dict[str, Any] = {}
    if total != person.score:
        updates["score"] = total
    updates.update(engagement_changes(person, activities, now))
    for name, value in updates.items():
        setattr(person, name, value)
    return updates, rows


def write_ledger(rows: list[ScoreEntry]) -> None:
    """Insert rescore_changes' ledger rows (a re-score changes a few awards: no ORM insert
    to compile)."""
    insert_few(ScoreEntry, rows)


def _ledger_rows(person: Person, rules: Sequence[engine.Rule], awards: Sequence[engine.Award],
                 sums: list[list[Any]], now: datetime) -> list[ScoreEntry]:
    """The rows that bring the ledger's `sums` ((rule, activity, points)) to `awards`."""
    current: dict[tuple[str, int | None], int] = defaultdict(int)
    for key, activity_id, points in sums:
        current[(key, activity_id)] += points
    wanted = {(a.rule_key, a.activity_id): a for a in awards}
    link = ScoreEntry._meta.get_field(person.PERSON_FIELD)
    entries = []
    for key in wanted.keys() | current.keys():
        award = wanted.get(key)
        delta = (award.points if award else 0) - current.get(key, 0)
        if delta == 0:
            continue
        version = award.rule_version if award else _version_of(rules, key[0])
        reason = award.reason if award else _withdrawn_reason(person, key)
        entry = new_row(ScoreEntry, lead_id=None, contact_id=None, rule_key=key[0], rule_version=version,
                        activity_id=key[1], points=delta, reason=reason[:255], at=now)
        link.set_cached_value(entry, person)  # as ScoreEntry(lead=person): its id taken once it is saved
        setattr(entry, link.attname, person.pk)
        entries.append(entry)
    return entries


def new_ledger(person: Person, now: datetime) -> list[ScoreEntry]:
    """For a person not saved yet, with no behaviour: sets its score, and returns its
    ledger rows (its profile's awards) for the caller to insert with it (ingest_lead, in
    the lead's own statement); rescore_ledger(new=True) then writes nothing."""
    rules = load_rules()
    person.score, awards = engine.score(_profile(person), [], rules, person.behaviour_counted_since)
    return _ledger_rows(person, rules, awards, [], now)


def _profile(person: Person) -> engine.Profile:
    return engine.Profile(title=person.title, email=getattr(person, "email", "") or "")


def _version_of(rules: Sequence[engine.Rule], key: str) -> int:
    return next((rule.version for rule in rules if rule.key == key), 0)


def _withdrawn_reason(person: Person, key: tuple[str, int | None]) -> str:
    if key[1] is not None and person.behaviour_counted_since is not None:
        return "Behaviour points reset when the lead was recycled"
    return "No longer applies"


def _trial_end(activity: ActivityRow) -> datetime:
    raw = activity.details.get("trial_end") if isinstance(activity.details, dict) else None
    if isinstance(raw, str):
        parsed = parse_datetime(raw) or (parse_date(raw) and datetime.combine(parse_date(raw), datetime.min.time()))
        if parsed:
            return parsed if timezone.is_aware(parsed) else timezone.make_aware(parsed, UTC)
    return activity.occurred_at + timedelta(days=TRIAL_DAYS)


def engagement_changes(person: Person, activities: list[ActivityRow], now: datetime) -> dict[str, Any]:
    """Handraise and the active window: 60 days after the last handraise (trials: the
    trial's end + 30 days); passive once it has passed."""
    handraises = [a for a in activities if a.type in HANDRAISE_TYPES]
    if not handraises:
        return {}
    last = max(a.occurred_at for a in handraises)
    window = timedelta(days=settings.ACTIVE_WINDOW_DAYS)
    until = max(
        _trial_end(a) + timedelta(days=AFTER_TRIAL_DAYS) if a.type == A.TRIAL_REQUEST else a.occurred_at + window
        for a in handraises
    )
    changes: dict[str, Any] = {}
    if person.last_handraise_at != last:
        changes["last_handraise_at"] = last
    if person.active_until != until:
        changes["active_until"] = until
    passive = until <= now
    if person.is_passive != passive:
        changes["is_passive"] = passive
    return changes


def explain(person: Lead | Contact, ledger: bool = True) -> dict[str, Any]:
    """The score and, per rule, how many points it gave and why; with `ledger`, the
    latest 100 ledger rows too (the API shows them, the lead page does not)."""
    field = person.PERSON_FIELD
    labels = dict(ScoringRule.objects.values_list("key", "label"))
    rows = (ScoreEntry.objects.filter(**{field: person.pk}).values("rule_key")
            .annotate(points=Sum("points")).order_by("rule_key"))
    breakdown = [
        {"rule": row["rule_key"], "label": labels.get(row["rule_key"], row["rule_key"]), "points": row["points"]}
        for row in rows if row["points"]
    ]
    breakdown.sort(key=lambda item: -abs(item["points"]))
    entries = ScoreEntry.objects.filter(**{field: person.pk}).order_by("-at", "-id")[:100] if ledger else []
    return {
        "score": person.score,
        "mql_threshold": settings.MQL_THRESHOLD,
        "breakdown": breakdown,
        "summary": "; ".join(f"{item['label']}: {item['points']:+d}" for item in breakdown) or "No points yet",
        "ledger": [
            {"rule": e.rule_key, "rule_version": e.rule_version, "activity": e.activity_id, "points": e.points,
             "reason": e.reason, "at": e.at}
            for e in entries
        ],
    }


EDITABLE_RULE_FIELDS = ("label", "points", "counting")
MAX_POINTS = 1000  # a rule gives from -MAX_POINTS to MAX_POINTS


def update_rule(rule: ScoringRule, data: dict[str, Any], by: Any) -> ScoringRule:
    """Change a rule's points, label or counting: a new version, an audit row, and a
    background re-score of the people it can touch (enqueued after commit)."""
    with transaction.atomic():
        rule = ScoringRule.objects.select_for_update().get(pk=rule.pk)
        old = {field: getattr(rule, field) for field in EDITABLE_RULE_FIELDS}
        new = {**old, **{k: v for k, v in data.items() if k in EDITABLE_RULE_FIELDS}}
        if new == old:
            return rule
        for field, value in new.items():
            setattr(rule, field, value)
        rule.version += 1
        rule.save()
        change = ScoringRuleChange.objects.create(rule=rule, version=rule.version, old=old, new=new, by=by,
                                                  progressed_at=timezone.now())
        enqueue("scoring.tasks.rescore_people", change.pk)
    return rule


def stalled_rescores(now: datetime) -> list[int]:
    """Rule changes whose re-score has made no progress for RESCORE_REQUEUE_AFTER_SECONDS:
    its task was lost (a killed worker) and must be sent again."""
    return list(_stalled(now).order_by("progressed_at", "id").values_list("id", flat=True))


def claim_stalled_rescore(change_id: int, now: datetime) -> bool:
    """Mark a stalled re-score as progressing now; False when it is no longer stalled
    (it progressed, finished, or another run claimed it)."""
    return bool(_stalled(now).filter(pk=change_id).update(progressed_at=now))


def _stalled(now: datetime) -> QuerySet[ScoringRuleChange]:
    cutoff = now - timedelta(seconds=settings.RESCORE_REQUEUE_AFTER_SECONDS)
    return ScoringRuleChange.objects.filter(rescored_at__isnull=True, progressed_at__lte=cutoff)


def people_to_rescore(activity_type: str, after_id: int, batch: int) -> list[int]:
    """Ids of leads a rule change can touch, in id order after `after_id`: those with an
    activity of the rule's type, or everyone for a profile rule."""
    leads = Lead.objects.filter(pk__gt=after_id)
    if activity_type:
        leads = leads.filter(pk__in=Activity.objects.filter(type=activity_type, lead__isnull=False).values("lead"))
    return list(leads.order_by("pk").values_list("pk", flat=True)[:batch])
