"""The manager's team queues (docs/rules.md §9, and the SLA breaches of docs/rules.md §2): for each SDR of
the team, how many leads each view holds and how old its oldest is; the SLA breaches; and
what waits in the shared queues (Unassigned holds what routing could not give anyone).

The counts are taken by the `queue_counts` job every minute (count_queues), for every SDR
at once, and kept as QueueTally rows: a board read costs the same at any number of leads and
managers, and says when its counts were taken. Counting reads the SDRs' leads once: every view
and the breaches are conditional aggregates of one grouped query. A fixed number of queries,
whatever the team's size."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta

from django.conf import settings
from django.db import transaction
from django.db.models import Count, Min, Q
from django.utils import timezone

from sdrcrm.errors import Refused
from sdrcrm.models import Team, User, active_prospectors

from .models import Lead, Queue, QueueTally
from .worklists import LEAD_VIEWS

BREACHES_SHOWN = 50


@dataclass(frozen=True)
class Cell:
    count: int = 0
    oldest: datetime | None = None  # the oldest status change among them (breaches: the earliest due time)


@dataclass
class SdrRow:
    sdr: User
    views: dict[str, Cell] = field(default_factory=dict)  # by view key; a view with none is missing
    breaches: Cell = Cell()

    @property
    def cells(self) -> list[tuple[str, Cell]]:
        """(view key, cell) for every view, in docs/rules.md §9's order."""
        return [(key, self.views.get(key, Cell())) for key in LEAD_VIEWS]

    @property
    def view_cells(self) -> dict[str, Cell]:
        return dict(self.cells)


@dataclass(frozen=True)
class QueueRow:
    queue: Queue
    waiting: Cell


@dataclass
class TeamQueues:
    teams: list[Team]  # the teams the viewer may pick
    team: Team | None  # the one picked; None: all the viewer's teams
    views: list[tuple[str, str]]  # (key, label) in docs/rules.md §9's order
    rows: list[SdrRow]
    breached: list[Lead]  # the oldest breaches, with owner
    queues: list[QueueRow]
    counted_at: datetime  # when the counts were taken (the breaches list is read as it is)
    stale: bool = False  # the counting job has not run for QUEUE_COUNTS_STALE_SECONDS


def teams_for(user: User) -> list[Team]:
    """The teams whose queues a user watches: a manager's own, every team for ops."""
    if not (user.is_ops or user.is_manager):
        raise Refused("Team queues are for SDR managers and Sales-Dev Ops.", status=403)
    return list(user.watched_teams())


def team_queues(user: User, team_id: int | None = None, now: datetime | None = None) -> TeamQueues:
    """The board of the viewer's teams (or the one picked). The counts are the `queue_counts`
    job's of the last minute; where it has not counted an SDR or a queue yet (a new install,
    a new SDR), the whole board is counted now. The oldest breaches are read as they are."""
    now = now or timezone.now()
    teams = teams_for(user)
    team = None
    if team_id is not None:
        team = next((t for t in teams if t.pk == team_id), None)
        if team is None:
            raise Refused(f"No team with id {team_id} among the teams you watch.", field="team")
    picked = [team] if team else teams
    sdrs = list(active_prospectors().filter(team__in=picked).order_by("first_name", "last_name", "username"))
    ids = [sdr.pk for sdr in sdrs]
    queues = {queue.pk: queue for queue in Queue.objects.order_by("name")}
    tallies = list(QueueTally.objects.filter(Q(owner__in=ids) | Q(queue__isnull=False)))
    if {t.owner_id for t in tallies}.issuperset(ids) and {t.queue_id for t in tallies}.issuperset(queues):
        views, waiting = _read(tallies)
        counted_at = min((tally.counted_at for tally in tallies), default=now)
    else:
        views, waiting, counted_at = count_views(ids), count_waiting(), now
    rows = [SdrRow(sdr, {key: cell for key, cell in views.get(sdr.pk, {}).items() if key != QueueTally.BREACHES},
                   views.get(sdr.pk, {}).get(QueueTally.BREACHES, Cell())) for sdr in sdrs]
    breached = Lead.objects.filter(owner__in=ids, sla_breached_at__isnull=False)
    return TeamQueues(
        teams=teams, team=team, views=[(key, label) for key, (label, _) in LEAD_VIEWS.items()], rows=rows,
        breached=list(breached.select_related("owner").order_by("sla_due_at", "id")[:BREACHES_SHOWN]),
        queues=[QueueRow(queue, waiting.get(pk, Cell())) for pk, queue in queues.items()],
        counted_at=counted_at,
        stale=now - counted_at > timedelta(seconds=settings.QUEUE_COUNTS_STALE_SECONDS),
    )


def count_views(owner_ids: list[int]) -> dict[int, dict[str, Cell]]:
    """Per owner: every view's count and oldest status change, and the SLA breaches with
    the earliest due time; the leads are read once, every figure a conditional aggregate."""
    aggregates = {QueueTally.BREACHES: (Q(sla_breached_at__isnull=False), "sla_due_at"),
                  **{key: (condition, "status_changed_at") for key, (_, condition) in LEAD_VIEWS.items()}}
    columns = {}
    for key, (condition, age) in aggregates.items():
        columns[f"{key}__n"] = Count("id", filter=condition)
        columns[f"{key}__oldest"] = Min(age, filter=condition)
    counts = Lead.objects.filter(owner__in=owner_ids).order_by().values("owner_id").annotate(**columns)
    return {row["owner_id"]: {key: Cell(row[f"{key}__n"], row[f"{key}__oldest"])
                              for key in aggregates if row[f"{key}__n"]} for row in counts}


def count_waiting() -> dict[int, Cell]:
    """Per shared queue: the leads waiting in it and the oldest status change among them."""
    waiting = Lead.objects.filter(queue__isnull=False).order_by().values("queue_id")
    return {queue_id: Cell(n, oldest) for queue_id, n, oldest
            in waiting.annotate(n=Count("id"), oldest=Min("status_changed_at")).values_list("queue_id", "n", "oldest")}


def count_queues(now: datetime) -> dict[str, int]:
    """`queue_counts` (every minute): the board's figures for every active SDR and every
    shared queue, replacing the last count in one transaction (zeros included, so a board
    can tell "counted, none" from "not counted yet")."""
    ids = list(active_prospectors().values_list("pk", flat=True))
    views, waiting = count_views(ids), count_waiting()
    keys = [QueueTally.BREACHES, *LEAD_VIEWS]
    tallies = [QueueTally(owner_id=owner, key=key, count=cell.count, oldest=cell.oldest, counted_at=now)
               for owner in ids for key in keys for cell in [views.get(owner, {}).get(key, Cell())]]
    tallies += [QueueTally(queue_id=queue, key=QueueTally.WAITING, count=cell.count, oldest=cell.oldest,
                           counted_at=now)
                for queue in Queue.objects.values_list("pk", flat=True) for cell in [waiting.get(queue, Cell())]]
    with transaction.atomic():
        QueueTally.objects.all().delete()
        QueueTally.objects.bulk_create(tallies)
    return {"sdrs": len(ids), "figures": len(tallies)}


def _read(tallies: list[QueueTally]) -> tuple[dict[int, dict[str, Cell]], dict[int, Cell]]:
    views: dict[int, dict[str, Cell]] = {}
    waiting: dict[int, Cell] = {}
    for tally in tallies:
        if not tally.count:
            continue
        if tally.owner_id:
            views.setdefault(tally.owner_id, {})[tally.key] = Cell(tally.count, tally.oldest)
        else:
            waiting[tally.queue_id] = Cell(tally.count, tally.oldest)
    return views, waiting
