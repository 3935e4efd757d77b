"""The SAO dashboard (docs/rules.md §4.6): per SDR/BDR and per team, for a month or a
quarter of the company's calendar, the SAOs credited (by sales-accepted date; never a
professional-services deal; one credit per opportunity, its SDR's), SCLAU (SAOs on
large-segment accounts), SQOs, IQMs held and how many of them became SAOs, the IACV
pipeline of the period's SAOs and the closed-won IACV, quota and attainment with the
ramp and a projection at the current pace (opportunities/quota.py), and the dials and
emails per working day against 30 and 30.

Who sees what: an SDR/BDR their own row, a manager the SDRs of their teams, ops all.
Three grouped queries (deals, IQMs, activities) whatever the number of SDRs, and the
funnel of the period's MQLs by initial source (`funnel`), three more."""

from __future__ import annotations

import statistics
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from decimal import Decimal
from fractions import Fraction
from functools import partial

from django.db.models import Count, DateField, Q, QuerySet, Sum
from django.db.models.functions import Cast, TruncDate
from django.utils import timezone

from leads.models import Activity, ActivityType, InitialSource, Lead
from routing import sla
from sdrcrm import company
from sdrcrm.errors import Refused
from sdrcrm.models import PROSPECTING_ROLES, Segment, Team, User

from . import quota
from .models import IQM, Disposition, Opportunity, Stage

DAILY_DIALS = DAILY_EMAILS = 30  # the handbook's daily activity targets
HELD = (Disposition.QUALIFIED_MEETING, Disposition.SAO)  # an IQM that took place


@dataclass
class Figures:
    """The period's figures of one SDR, or summed over a team."""

    saos: int = 0
    sclau: int = 0
    sqos: int = 0
    iqms_held: int = 0
    iqms_to_sao: int = 0
    pipeline_iacv: Decimal = Decimal(0)
    won_iacv: Decimal = Decimal(0)
    quota: Fraction = Fraction(0)
    projection: Fraction = Fraction(0)
    dials: int = 0
    emails: int = 0
    dials_per_day: Fraction = Fraction(0)
    emails_per_day: Fraction = Fraction(0)

    @property
    def attainment(self) -> Fraction | None:
        return quota.attainment(self.saos, self.quota)

    @property
    def iqm_to_sao(self) -> Fraction | None:
        return Fraction(self.iqms_to_sao, self.iqms_held) if self.iqms_held else None

    def add(self, other: Figures) -> None:
        for name in ("saos", "sclau", "sqos", "iqms_held", "iqms_to_sao", "pipeline_iacv", "won_iacv", "quota",
                     "projection", "dials", "emails"):
            setattr(self, name, getattr(self, name) + getattr(other, name))


@dataclass
class SdrRow:
    sdr: User
    ramp_month: int | None  # of the period's last month; None without a ramp start
    figures: Figures
    days: list[DayActivity] = field(default_factory=list)  # each day of the period so far


@dataclass(frozen=True)
class DayActivity:
    """One SDR's dials and emails on one day (in the company's calendar)."""

    day: date
    dials: int
    emails: int
    working: bool  # a working day in the SDR's region (weekends and its holidays are not)


@dataclass
class TeamRow:
    team: Team | None
    sdrs: int
    figures: Figures = field(default_factory=Figures)


@dataclass
class Dashboard:
    period: quota.Period
    today: date
    rows: list[SdrRow]
    teams: list[TeamRow]
    total: Figures
    funnel: list[FunnelRow]


def sdrs_in_scope(user: User, team: int | None = None, sdr: int | None = None) -> QuerySet[User]:
    """The SDRs/BDRs `user` may see figures of, narrowed to a team or one SDR; a team or
    SDR outside that answers 404 (refused), never their figures."""
    people = User.objects.filter(role__in=PROSPECTING_ROLES, is_active=True).select_related("team")
    if user.is_ops:
        pass
    elif user.is_manager:
        people = people.filter(team__in=user.managed_team_ids())
    elif user.is_prospector:
        people = people.filter(pk=user.pk)
    else:
        raise Refused("The SAO dashboard is for sales development, their managers and ops.", status=403)
    if team is not None:
        people = people.filter(team=team)
        if not people.exists():
            raise Refused(f"No team {team} that you may see.", field="team", status=404)
    if sdr is not None:
        people = people.filter(pk=sdr)
        if not people.exists():
            raise Refused(f"No SDR {sdr} that you may see.", field="sdr", status=404)
    return people.order_by("team__name", "last_name", "username")


def bounds(period: quota.Period) -> tuple[datetime, datetime]:
    """The period as [start, end) instants in the company's time zone."""
    return company.start_of(period.first), company.start_of(period.last + timedelta(days=1))


def sao_dashboard(user: User, kind: str, day: date | None = None, team: int | None = None,
                  sdr: int | None = None, now: datetime | None = None) -> Dashboard:
    """The month or quarter (`kind`) holding `day` (default: today in the company's time
    zone) for the SDRs `user` may see, narrowed to a team or an SDR."""
    now = now or timezone.now()
    today = company.day_of(now)
    if kind not in quota.PERIODS:
        raise Refused(f"period is one of {', '.join(quota.PERIODS)}.", field="period")
    period = quota.period_of(kind, day or today)
    sdrs = list(sdrs_in_scope(user, team, sdr))
    figures, days = _figures(sdrs, period, today, now)
    rows = [SdrRow(person, quota.ramp_month(person.ramp_start_date, period.months[-1]), figures[person.pk],
                   days[person.pk]) for person in sdrs]
    teams: dict[int | None, TeamRow] = {}
    members: dict[int | None, list[SdrRow]] = {}
    total = Figures()
    for row in rows:
        team_row = teams.setdefault(row.sdr.team_id, TeamRow(row.sdr.team, 0))
        team_row.sdrs += 1
        team_row.figures.add(row.figures)
        members.setdefault(row.sdr.team_id, []).append(row)
        total.add(row.figures)
    for team_id, team_row in teams.items():
        _activity_rates(team_row.figures, members[team_id])
    _activity_rates(total, rows)
    return Dashboard(period, today, rows, list(teams.values()), total, _funnel([person.pk for person in sdrs], period))


def _activity_rates(figures: Figures, rows: list[SdrRow]) -> None:
    """A team's dials and emails per working day: the average of its SDRs' rates."""
    if rows:
        figures.dials_per_day = sum((r.figures.dials_per_day for r in rows), Fraction(0)) / len(rows)
        figures.emails_per_day = sum((r.figures.emails_per_day for r in rows), Fraction(0)) / len(rows)


def _figures(sdrs: list[User], period: quota.Period, today: date,
             now: datetime) -> tuple[dict[int, Figures], dict[int, list[DayActivity]]]:
    """Each SDR's figures, and their dials and emails on each day of the period so far."""
    ids = [person.pk for person in sdrs]
    start, end = bounds(period)
    found = {pk: Figures() for pk in ids}
    sao = Q(sales_accepted_date__gte=period.first, sales_accepted_date__lte=period.last)
    sqo = Q(sales_qualified_date__gte=period.first, sales_qualified_date__lte=period.last)
    won = Q(stage=Stage.CLOSED_WON, closed_at__gte=start, closed_at__lt=end)
    deals = (Opportunity.objects.filter(sdr__in=ids, professional_services=False).filter(sao | sqo | won)
             .values("sdr").annotate(saos=Count("id", filter=sao),
                                     sclau=Count("id", filter=sao & Q(account__segment=Segment.LARGE)),
                                     sqos=Count("id", filter=sqo), pipeline=Sum("iacv", filter=sao),
                                     won=Sum("iacv", filter=won)))
    for row in deals:
        figures = found[row["sdr"]]
        figures.saos, figures.sclau, figures.sqos = row["saos"], row["sclau"], row["sqos"]
        figures.pipeline_iacv, figures.won_iacv = row["pipeline"] or Decimal(0), row["won"] or Decimal(0)
    iqms = (IQM.objects.filter(sdr__in=ids, start__gte=start, start__lt=min(end, now), disposition__in=HELD)
            .values("sdr").annotate(held=Count("id"), to_sao=Count("id", filter=Q(
                disposition=Disposition.SAO) | Q(opportunity__sales_accepted_date__isnull=False))))
    for row in iqms:
        found[row["sdr"]].iqms_held, found[row["sdr"]].iqms_to_sao = row["held"], row["to_sao"]
    touches = (Activity.objects.filter(created_by__in=ids, occurred_at__gte=start, occurred_at__lt=end,
                                       type__in=(ActivityType.CALL, ActivityType.EMAIL_SENT))
               .values_list("created_by", company_day("occurred_at"))
               .annotate(dials=Count("id", filter=Q(type=ActivityType.CALL)),
                         emails=Count("id", filter=Q(type=ActivityType.EMAIL_SENT))))
    by_day: dict[tuple[int, date], tuple[int, int]] = {}
    for person_id, day, dials, emails in touches:
        found[person_id].dials += dials
        found[person_id].emails += emails
        by_day[person_id, day] = (dials, emails)
    calendar = [period.first + timedelta(days=n) for n in range((min(today, period.last) - period.first).days + 1)]
    days: dict[int, list[DayActivity]] = {}
    for person in sdrs:
        figures = found[person.pk]
        working = partial(sla.is_business_day, region=person.region)
        days[person.pk] = [DayActivity(day, *by_day.get((person.pk, day), (0, 0)), working(day)) for day in calendar]
        figures.quota = quota.quota(person.monthly_sao_quota, person.ramp_start_date, period)
        figures.projection = quota.projection(figures.saos, period, today, working)
        figures.dials_per_day = quota.per_working_day(figures.dials, period, today, working)
        figures.emails_per_day = quota.per_working_day(figures.emails, period, today, working)
    return found, days


# --- The funnel ----------------------------------------------------------------------------

STAGES = ("mql", "accepted", "qualifying", "sao", "sqo", "won")
STAGE_LABELS = {"mql": "MQL", "accepted": "Accepted", "qualifying": "Qualifying", "sao": "SAO", "sqo": "SQO",
                "won": "Won"}


@dataclass
class FunnelRow:
    """One initial source's leads that became MQL in the period: how many reached each
    stage since, or a later one (`counts`), each stage's share of the one before (`rates`),
    and the median days from the stage before to it, over the leads with both days (`days`)."""

    source: str
    label: str
    counts: dict[str, int]
    rates: dict[str, Fraction | None]
    days: dict[str, float | None]
    sclau: int = 0  # of its SAOs, those on a large-segment account


def funnel(user: User, kind: str, day: date | None = None, team: int | None = None, sdr: int | None = None,
           now: datetime | None = None) -> list[FunnelRow]:
    """The period's MQL cohort per initial source (leads owned by the SDRs in scope), and
    how far each got: accepted and qualifying by their status history, SAO, SQO and won by
    the opportunity converted from the lead (never a professional-services one), and how
    many of its SAOs are on large-segment accounts (SCLAU by source). Three
    queries, each over the cohort as a whole (no query per lead); each stage's day is taken
    in the company's calendar by the database; the counting and medians in Python."""
    now = now or timezone.now()
    sdrs = list(sdrs_in_scope(user, team, sdr).values_list("pk", flat=True))
    return _funnel(sdrs, quota.period_of(kind, day or company.day_of(now)))


def _funnel(sdrs: list[int], period: quota.Period) -> list[FunnelRow]:
    """The funnel of the leads of `sdrs` (their ids) in `period`. The cohort is counted per
    source by the database, and its leads that went past MQL read with their first Accepted
    and Qualifying days, from the (owner, MQL time) index alone; then the deals converted
    from them. Three queries, whatever the cohort's size."""
    cohort = Lead.objects.filter(in_cohort(sdrs, period))
    mqls = dict(cohort.order_by().values("initial_source").annotate(n=Count("*")).values_list("initial_source", "n"))
    if not mqls:
        return []
    # lead id → [mql, accepted, qualifying, SAO, SQO, won] days, and its source
    days: dict[int, list[date | None]] = {}
    sources: dict[int, str] = {}
    reached = cohort.filter(Q(accepted_at__isnull=False) | Q(qualifying_at__isnull=False)).values_list(
        "pk", "initial_source", company_day("mql_at"), company_day("accepted_at"), company_day("qualifying_at"))
    for pk, source, mql_on, accepted_on, qualifying_on in reached:
        days[pk], sources[pk] = [mql_on, accepted_on, qualifying_on, None, None, None], source

    def stages_of(lead: int, source: str, mql_on: date) -> list[date | None]:
        if lead not in days:
            days[lead], sources[lead] = [mql_on, None, None, None, None, None], source
        return days[lead]

    # The deals through the join to the lead (not "lead in (cohort)"), so the database reads
    # the cohort from the funnel's index alone. A deal is opened when its lead converts,
    # which is after the lead's first MQL: only deals created since the period began can
    # be the cohort's, and the (created_at, id) index finds those.
    through_lead = in_cohort(sdrs, period, "lead__")
    deals = (Opportunity.objects.filter(through_lead, created_at__gte=bounds(period)[0], professional_services=False)
             .order_by("-pk")
             .values_list("lead", "lead__initial_source", company_day("lead__mql_at"), "sales_accepted_date",
                          "sales_qualified_date", "stage", company_day("closed_at"), "account__segment"))
    large: set[int] = set()
    for lead, source, mql_on, sao_on, sqo_on, stage, closed_on, segment in deals:  # the first deal last: it is kept
        stages_of(lead, source, mql_on)[3:] = [sao_on, sqo_on, closed_on if stage == Stage.CLOSED_WON else None]
        if sao_on and segment == Segment.LARGE:
            large.add(lead)
        else:
            large.discard(lead)
    beyond: dict[str, list[list[date | None]]] = {source: [] for source in mqls}
    sclau = dict.fromkeys(mqls, 0)
    for pk, stages in days.items():
        beyond[sources[pk]].append(stages)
        sclau[sources[pk]] += pk in large
    result = [_funnel_row(source, mqls[source], leads, sclau[source]) for source, leads in beyond.items()]
    return sorted(result, key=lambda row: (-row.counts["mql"], row.label))


def company_day(moment: str) -> Cast:
    """The day a moment falls on in the company's calendar, worked out by the database. The
    cast spares Django a Python converter per value on PostgreSQL (its dates come as they
    are): 28,000 of them in a quarter's funnel at the bench's size."""
    return Cast(TruncDate(moment, tzinfo=company.zone()), DateField())


def in_cohort(sdrs: list[int], period: quota.Period, through: str = "") -> Q:
    """The leads of `sdrs` that became MQL in `period` (`through`: the path to the lead)."""
    start, end = bounds(period)
    return Q(**{f"{through}owner__in": sdrs, f"{through}mql_at__gte": start, f"{through}mql_at__lt": end})


def _funnel_row(source: str, mqls: int, leads: list[list[date | None]], sclau: int) -> FunnelRow:
    """One source's row: `mqls` leads in the cohort, `leads` the stage days of those that
    went further."""
    # A lead that got to a stage passed the ones before it, even where its history skips
    # one (a lead qualified by a reply the same moment it was accepted, an imported one).
    furthest = [0] * len(STAGES)  # how many leads got no further than each stage
    for lead in leads:
        furthest[max(n for n, day in enumerate(lead) if day is not None)] += 1
    furthest[0] = mqls - sum(furthest[1:])
    counts = {stage: sum(furthest[n:]) for n, stage in enumerate(STAGES)}
    rates: dict[str, Fraction | None] = {STAGES[0]: None}
    days: dict[str, float | None] = {STAGES[0]: None}
    for n, stage in enumerate(STAGES[1:], start=1):
        before = counts[STAGES[n - 1]]
        rates[stage] = Fraction(counts[stage], before) if before else None
        gaps = [(lead[n] - lead[n - 1]).days for lead in leads if lead[n] is not None and lead[n - 1] is not None]
        days[stage] = statistics.median(gaps) if gaps else None
    label = InitialSource(source).label if source in InitialSource.values else source
    return FunnelRow(source, label, counts, rates, days, sclau)
