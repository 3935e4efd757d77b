"""The manager's team queues (docs/rules.md §9, and the SLA breaches of docs/rules.md §2): for each SDR of
the team, how many leads each view holds and how old its oldest is; the SLA breaches; and
what waits in the shared queues (Unassigned holds what routing could not give anyone).

A fixed number of queries, whatever the team's size. The SDRs' leads are read once: every
view and the breaches are conditional aggregates of one grouped query."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from django.db.models import Count, Min, Q

from sdrcrm.errors import Refused
from sdrcrm.models import Team, User, active_prospectors

from .models import Lead, Queue
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


def teams_for(user: User) -> list[Team]:
    """The teams whose queues a user watches: a manager's own, every team for ops."""
    if user.is_ops:
        return list(Team.objects.order_by("name"))
    if user.is_manager:
        return list(Team.objects.filter(pk__in=user.managed_team_ids()).order_by("name"))
    raise Refused("Team queues are for SDR managers and Sales-Dev Ops.", status=403)


def team_queues(user: User, team_id: int | None = None) -> TeamQueues:
    teams = teams_for(user)
    team = None
    if team_id is not None:
        team = next((t for t in teams if t.pk == team_id), None)
        if team is None:
            raise Refused(f"No team with id {team_id} among the teams you watch.", field="team")
    picked = [team] if team else teams
    sdrs = list(active_prospectors().filter(team__in=picked).order_by("first_name", "last_name", "username"))
    ids = [sdr.pk for sdr in sdrs]
    rows = {sdr.pk: SdrRow(sdr) for sdr in sdrs}
    mine = Lead.objects.filter(owner__in=ids)
    breached = Q(sla_breached_at__isnull=False)
    aggregates = {"breaches": (breached, "sla_due_at"), **{key: (condition, "status_changed_at")
                                                          for key, (_, condition) in LEAD_VIEWS.items()}}
    columns = {}
    for key, (condition, age) in aggregates.items():
        columns[f"{key}__n"] = Count("id", filter=condition)
        columns[f"{key}__oldest"] = Min(age, filter=condition)
    for counts in mine.order_by().values("owner_id").annotate(**columns):
        row = rows[counts["owner_id"]]
        row.views = {key: Cell(counts[f"{key}__n"], counts[f"{key}__oldest"])
                     for key in LEAD_VIEWS if counts[f"{key}__n"]}
        row.breaches = Cell(counts["breaches__n"], counts["breaches__oldest"])
    queues = {queue.pk: queue for queue in Queue.objects.order_by("name")}
    waiting = {queue_id: Cell(count, oldest) for queue_id, count, oldest
               in Lead.objects.filter(queue__isnull=False).order_by().values("queue_id")
               .annotate(n=Count("id"), oldest=Min("status_changed_at")).values_list("queue_id", "n", "oldest")}
    return TeamQueues(
        teams=teams, team=team, views=[(key, label) for key, (label, _) in LEAD_VIEWS.items()],
        rows=list(rows.values()),
        breached=list(mine.filter(breached).select_related("owner").order_by("sla_due_at", "id")[:BREACHES_SHOWN]),
        queues=[QueueRow(queue, waiting.get(pk, Cell())) for pk, queue in queues.items()],
    )

