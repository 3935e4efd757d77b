"""The SAO dashboard (docs/rules.md §4.6): per SDR/BDR and per team, for a month or a
quarter of the company's calendar, the SAOs credited (by sales-accepted date; never a
professional-services deal; one credit per opportunity, its SDR's), SCLAU (SAOs on
large-segment accounts), SQOs, IQMs held and how many of them became SAOs, the IACV
pipeline of the period's SAOs and the closed-won IACV, quota and attainment with the
ramp and a projection at the current pace (opportunities/quota.py), and the dials and
emails per working day against 30 and 30.

Who sees what: an SDR/BDR their own row, a manager the SDRs of their teams, ops all.
Three grouped queries (deals, IQMs, activities) whatever the number of SDRs, and the
funnel of the period's MQLs by initial source (`funnel`), two more."""

from __future__ import annotations

import itertools
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from decimal import Decimal
from fractions import Fraction
from functools import partial

from django.db.models import Case, Count, DateField, Exists, F, OuterRef, Q, QuerySet, Sum, When
from django.db.models.functions import Cast, TruncDate
from django.utils import timezone

from leads.models import Activity, ActivityType, InitialSource, Lead
from routing import sla
from sdrcrm import aggregates, company
from sdrcrm.aggregates import DaysBetween, Median
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


def _period(kind: str, day: date | None, now: datetime | None = None) -> quota.Period:
    """The month or quarter (`kind`) holding `day`, by default today in the company's time zone."""
    if kind not in quota.PERIODS:
        raise Refused(f"period is one of {', '.join(quota.PERIODS)}.", field="period")
    return quota.period_of(kind, day or company.day_of(now or timezone.now()))


def bounds(period: quota.Period) -> tuple[datetime, datetime]:
    """The period as [start, end) instants in the company's time zone."""
    return company.start_of(period.first), company.start_of(period.last + timedelta(days=1))


def sao_dashboard(user: User, kind: str, day: date | None = None, team: int | None = None,
                  sdr: int | None = None, now: datetime | None = None) -> Dashboard:
    """The month or quarter (`kind`) holding `day` (default: today in the company's time
    zone) for the SDRs `user` may see, narrowed to a team or an SDR."""
    now = now or timezone.now()
    today = company.day_of(now)
    period = _period(kind, day, now)
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
                "won": "Won", "sclau": "SCLAU"}
# SCLAU is not a stage of its own but a part of SAO: the first deals with an accepted date
# on a large-segment account (counted as `FunnelRow.sclau`, listed by `funnel_leads`).
SCLAU = Q(sales_accepted_date__isnull=False, account__segment=Segment.LARGE)


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
    how far each got: accepted and qualifying by the lead's first time in each status, SAO,
    SQO and won by the opportunity converted from the lead (never a professional-services
    one), and how many of its SAOs are on large-segment accounts (SCLAU by source). Two
    grouped queries over the cohort as a whole: each stage's day is taken in the company's
    calendar, and the counts and medians worked out, by the database."""
    period = _period(kind, day, now)
    sdrs = list(sdrs_in_scope(user, team, sdr).values_list("pk", flat=True))
    return _funnel(sdrs, period)


def _funnel(sdrs: list[int], period: quota.Period) -> list[FunnelRow]:
    """The funnel of the leads of `sdrs` (their ids) in `period`, counted by the database in
    two grouped queries whatever the cohort's size: the cohort by source, from the (owner,
    MQL time) index alone (`_cohort_by_source`), then the first deal of each of its leads
    (`_deals_by_source`). A lead that got to a stage passed the ones before it, even where
    its history skips one (a lead qualified by a reply the same moment it was accepted, a
    deal opened for a lead never marked Qualifying), so each count holds the leads that got
    that far or further; each median, the leads that have both days."""
    cohort = {row["initial_source"]: row for row in _cohort_by_source(sdrs, period)}
    deals = {row["initial_source"]: row for row in _deals_by_source(sdrs, period)} if cohort else {}
    result = []
    for source, leads in cohort.items():
        deal = deals.get(source, NO_DEALS)
        counts = {"mql": leads["mqls"], "accepted": leads["accepted"] + deal["accepted"],
                  "qualifying": leads["qualifying"] + deal["qualifying"], "sao": deal["sao"], "sqo": deal["sqo"],
                  "won": deal["won"]}
        medians = {"mql": None, "accepted": leads["to_accepted"], "qualifying": leads["to_qualifying"],
                   "sao": deal["to_sao"], "sqo": deal["to_sqo"], "won": deal["to_won"]}
        rates: dict[str, Fraction | None] = {STAGES[0]: None}
        for before, stage in itertools.pairwise(STAGES):
            rates[stage] = Fraction(counts[stage], counts[before]) if counts[before] else None
        label = InitialSource(source).label if source in InitialSource.values else source
        days = {stage: aggregates.whole(median) for stage, median in medians.items()}
        result.append(FunnelRow(source, label, counts, rates, days, deal["sclau"]))
    return sorted(result, key=lambda row: (-row.counts["mql"], row.label))


NO_DEALS = {"accepted": 0, "qualifying": 0, "sao": 0, "sqo": 0, "won": 0, "sclau": 0, "to_sao": None, "to_sqo": None,
            "to_won": None}


def _cohort_by_source(sdrs: list[int], period: quota.Period) -> QuerySet:
    """Per initial source, the period's MQLs, how many of them have been Accepted (or
    Qualifying, which passes it) and Qualifying, and the median days from MQL to Accepted
    and from Accepted to Qualifying: one pass over the (owner, MQL time) index, which holds
    every column read."""
    mql_on, accepted_on, qualifying_on = company_day("mql_at"), company_day("accepted_at"), company_day("qualifying_at")
    return (Lead.objects.filter(in_cohort(sdrs, period)).order_by().values("initial_source")
            .annotate(mqls=Count("pk"),
                      accepted=Count("pk", filter=Q(accepted_at__isnull=False) | Q(qualifying_at__isnull=False)),
                      qualifying=Count("pk", filter=Q(qualifying_at__isnull=False)),
                      to_accepted=Median(DaysBetween(accepted_on, mql_on)),
                      to_qualifying=Median(DaysBetween(qualifying_on, accepted_on))))


# What a deal has reached (each includes the stages after it: a deal qualified or won
# without an accepted date still passed SAO).
WON = Q(stage=Stage.CLOSED_WON, closed_at__isnull=False)
SQO = Q(sales_qualified_date__isnull=False) | WON
SAO = Q(sales_accepted_date__isnull=False) | SQO
DEAL_STAGES = {"sao": SAO, "sqo": SQO, "won": WON}


def _first_deals(sdrs: list[int], period: quota.Period) -> QuerySet[Opportunity]:
    """The first deal (its lowest id, never a professional-services one) of each lead of
    the cohort that has one.

    The deals are joined to their lead (not "lead in (cohort)"), so the database reads the
    cohort from the funnel's index alone. A deal is opened when its lead converts, which is
    after the lead's first MQL: only deals created since the period began can be the
    cohort's, and the (created_at, id) index finds those."""
    deals = Opportunity.objects.filter(created_at__gte=bounds(period)[0], professional_services=False)
    earlier = deals.filter(lead=OuterRef("lead"), pk__lt=OuterRef("pk"))
    return deals.filter(in_cohort(sdrs, period, "lead__")).exclude(Exists(earlier))


def _deals_by_source(sdrs: list[int], period: quota.Period) -> QuerySet:
    """Per initial source of the cohort, what the first deal of each of its leads reached:
    SAO, SQO and won, SCLAU, the median days from Qualifying to SAO, SAO to SQO and SQO to
    won, and the leads it takes past Accepted and Qualifying that their own history does not."""
    won_on = Case(When(WON, then=company_day("closed_at")))
    return (_first_deals(sdrs, period).order_by().values(initial_source=F("lead__initial_source"))
            .annotate(sao=Count("pk", filter=SAO), sqo=Count("pk", filter=SQO), won=Count("pk", filter=WON),
                      accepted=Count("pk", filter=SAO & Q(lead__accepted_at=None, lead__qualifying_at=None)),
                      qualifying=Count("pk", filter=SAO & Q(lead__qualifying_at=None)),
                      sclau=Count("pk", filter=SCLAU),
                      to_sao=Median(DaysBetween("sales_accepted_date", company_day("lead__qualifying_at"))),
                      to_sqo=Median(DaysBetween("sales_qualified_date", "sales_accepted_date")),
                      to_won=Median(DaysBetween(won_on, "sales_qualified_date"))))


def funnel_leads(user: User, kind: str, day: date | None, team: int | None, sdr: int | None, source: str,
                 stage: str, now: datetime | None = None) -> tuple[QuerySet[Lead], quota.Period]:
    """The leads behind one count of the funnel (`funnel`'s scope and period): those of the
    cohort from `source` that got to `stage` or further (or, for "sclau", whose first deal
    counts as SCLAU), as the count counts them."""
    period = _period(kind, day, now)
    if stage not in STAGE_LABELS:
        raise Refused(f"stage is one of {', '.join(STAGE_LABELS)}.", field="stage")
    sdrs = list(sdrs_in_scope(user, team, sdr).values_list("pk", flat=True))
    leads = Lead.objects.visible_to(user).filter(in_cohort(sdrs, period), initial_source=source)
    if stage == "sclau":
        leads = leads.filter(pk__in=_first_deals(sdrs, period).filter(SCLAU).values("lead"))
    elif stage in DEAL_STAGES or stage in ("accepted", "qualifying"):
        # A deal that got to SAO takes its lead past Accepted and Qualifying too.
        reached = Q(pk__in=_first_deals(sdrs, period).filter(DEAL_STAGES.get(stage, SAO)).values("lead"))
        if stage == "accepted":
            reached |= Q(accepted_at__isnull=False) | Q(qualifying_at__isnull=False)
        elif stage == "qualifying":
            reached |= Q(qualifying_at__isnull=False)
        leads = leads.filter(reached)
    return leads, period


def company_day(moment: str) -> Cast:
    """The day a moment falls on in the company's calendar, worked out by the database. The
    cast spares Django a Python converter per value on PostgreSQL (its dates come as they
    are): 28,000 of them in a quarter's funnel at the bench's size."""
    return Cast(TruncDate(moment, tzinfo=company.zone()), DateField())


def in_cohort(sdrs: list[int], period: quota.Period, through: str = "") -> Q:
    """The leads of `sdrs` that became MQL in `period` (`through`: the path to the lead; a
    deleted lead leaves the cohort, which Lead.objects sees to and a join does not)."""
    start, end = bounds(period)
    live = {f"{through}deleted_at": None} if through else {}
    return Q(**{f"{through}owner__in": sdrs, f"{through}mql_at__gte": start, f"{through}mql_at__lt": end}, **live)
