"""An SDR's day: tasks (done or snoozed with one click) and the Today page, which puts in
one list what is overdue, what is due before the end of the user's day, the sequence
steps due (each the task of its enrolment's next hand-done step, leads/sequences.py), and
the contact requests whose follow-up SLA runs out today."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, time, timedelta

from django.db.models import Case, Count, Exists, F, OuterRef, QuerySet, Value, When, Window
from django.db.models.functions import RowNumber
from django.utils import timezone

from opportunities.models import IQM
from routing import sla
from sdrcrm.errors import Refused
from sdrcrm.models import User

from . import sequences
from .models import OPEN_STATUSES, Enrollment, Lead, Person, Task

SNOOZE = timedelta(days=1)
LONGEST_WAIT = timedelta(days=5 * 365)
SHOWN = 100  # rows per list on the Today page; the rest wait for the next day's page
TASK_FIELDS = ("title", "kind", "due_at", "owner_id", "lead_id", "contact_id", "opportunity_id", "enrollment_id",
               "step", "done_at")


def names_of(relation: str) -> tuple[str, ...]:
    return (f"{relation}__first_name", f"{relation}__last_name")


def add_task(person: Person | None, by: User, title: str, kind: str, due_at: datetime,
             now: datetime | None = None) -> Task:
    """A task for `by` (about `person`, if given), due at `due_at`."""
    now = now or timezone.now()
    title = title.strip()
    if not title:
        raise Refused("Say what is to be done.", field="title")
    if due_at < now - timedelta(days=1):
        raise Refused("A task cannot be due more than a day ago.", field="due_at")
    if due_at > now + LONGEST_WAIT:
        raise Refused("A task is due within five years.", field="due_at")
    return Task.objects.create(title=title, kind=kind, due_at=due_at, owner=by, created_by=by,
                               **({person.PERSON_FIELD: person} if person is not None else {}))


def open_tasks(user: User) -> QuerySet[Task]:
    """The user's tasks still to do (the only ones they may mark done or snooze)."""
    return Task.objects.filter(owner=user, done_at=None).of_live_records()


def complete(task: Task, by: User, now: datetime | None = None) -> bool:
    """Mark it done; False when it already was (a second click, another tab). A sequence
    step's task completes its step in the enrolment too."""
    now = now or timezone.now()
    done = bool(Task.objects.filter(pk=task.pk, done_at=None).update(done_at=now))
    if done and task.enrollment_id is not None:
        sequences.complete_step_task(task, by, now)
    return done


def snooze(task: Task, now: datetime | None = None) -> datetime:
    """Due a day later than now (or than its due time, if that is later); the new due time."""
    now = now or timezone.now()
    due = max(task.due_at, now) + SNOOZE
    Task.objects.filter(pk=task.pk, done_at=None).update(due_at=due)
    return due


def end_of_day(user: User, now: datetime) -> datetime:
    """Midnight at the end of the user's day, in their region's time zone."""
    zone = sla.calendar_for(user.region).zone
    local = now.astimezone(zone)
    return datetime.combine(local.date() + timedelta(days=1), time.min, tzinfo=zone)


@dataclass
class Today:
    """The day's four lists, each the first rows (the limit asked for) with its whole count."""

    overdue: list[Task]
    due_today: list[Task]
    sla_due: list[Lead]  # contact requests whose follow-up is due before the day ends
    steps_due: list[Task]  # sequence steps a person does, due before the day ends
    counts: dict[str, int]  # each list's whole length
    ends_at: datetime
    zone: str  # the user's region's time zone, whose midnight ends the day


LISTS = ("overdue", "due_today", "steps_due", "sla_due")
FIRST_ROWS = 10  # rows of each list the page shows (the most urgent) until it asks for all of one


def today(user: User, now: datetime | None = None, whole: str = "") -> Today:
    """What the user has to do today: the first FIRST_ROWS of each list (SHOWN of the one
    named by `whole`) and every list's count. Two queries whatever the rows: the open
    tasks due before the day ends, each ranked and counted within its list by window
    functions, by the open-task index; the follow-ups with their count, by the SLA index."""
    now = now or timezone.now()
    ends = end_of_day(user, now)
    limit = {name: SHOWN if name == whole else FIRST_ROWS for name in LISTS}
    which = Case(When(enrollment__isnull=False, then=Value("steps_due")), When(due_at__lt=now, then=Value("overdue")),
                 default=Value("due_today"))
    in_list = {"partition_by": F("which"), "order_by": (F("due_at").asc(), F("id").asc())}
    # The columns the page shows only: a lead row is wide.
    tasks = list(open_tasks(user).filter(due_at__lt=ends).select_related("lead", "contact", "opportunity")
                 .only(*TASK_FIELDS, *names_of("lead"), *names_of("contact"), "opportunity__name")
                 .annotate(which=which).annotate(rank=Window(RowNumber(), **in_list),
                                                 count=Window(Count("id"), partition_by=F("which")))
                 .filter(rank__lte=max(limit.values())).order_by("due_at", "id"))
    counts = {name: 0 for name in LISTS}
    lists: dict[str, list[Task]] = {name: [] for name in LISTS}
    for task in tasks:
        counts[task.which] = task.count
        if task.rank <= limit[task.which]:
            lists[task.which].append(task)
    sla = list(Lead.objects.filter(owner=user, sla_due_at__isnull=False, sla_due_at__lt=ends,
                                   status__in=OPEN_STATUSES, converted_to__isnull=True)
               .only("first_name", "last_name", "company", "status", "sla_due_at", "sla_breached_at")
               .annotate(count=Window(Count("id"))).order_by("sla_due_at", "id")[:limit["sla_due"]])
    counts["sla_due"] = sla[0].count if sla else 0
    return Today(overdue=lists["overdue"], due_today=lists["due_today"], steps_due=lists["steps_due"], sla_due=sla,
                 counts=counts, ends_at=ends, zone=str(ends.tzinfo))


def with_next_steps(leads: QuerySet[Lead], now: datetime | None = None) -> QuerySet[Lead]:
    """My Qualifying's flag: each lead annotated with whether it has an active enrolment,
    an open task or an IQM to come (`has_enrolment`, `has_task`, `has_iqm`); one with
    none of them has no next step and is about to be forgotten. Three EXISTS on indexed
    keys, in the list's own query."""
    now = now or timezone.now()
    return leads.annotate(
        has_enrolment=Exists(Enrollment.objects.filter(lead=OuterRef("pk"), state=Enrollment.State.ACTIVE)),
        has_task=Exists(Task.objects.filter(lead=OuterRef("pk"), done_at=None)),
        has_iqm=Exists(IQM.objects.filter(lead=OuterRef("pk"), start__gt=now)),
    )
