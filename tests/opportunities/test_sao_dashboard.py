"""The SAO dashboard's figures (opportunities/dashboards.py, opportunities/quota.py) on a
fixture whose numbers are worked out by hand below, for November 2026 in the company's
time zone America/New_York.

November 2026 in the US: 21 weekdays, less Veterans Day (Wed 11) and Thanksgiving (Thu 26)
= 19 working days; in England no holiday: 21.

Ana (team North, AMER, ramp start 15 Oct, 4 SAOs a month): November is her ramp month 2,
so her quota is 4 × 50 % = 2. Her deals:
  1. accepted 5 Nov, large account, IACV 10,000 (SCLAU)              → SAO
  2. accepted 20 Nov, mid-market, IACV 5,000, qualified 25 Nov       → SAO and SQO
  3. professional services, accepted 10 Nov, IACV 50,000             → never counted
  4. accepted 30 Oct, qualified 3 Nov, won 30 Nov 23:30 New York     → SQO; won IACV 7,000
     (1 Dec 04:30 UTC: a UTC month would miss it)
  5. accepted 1 Dec                                                  → not November's
  6. accepted by change_stage at 1 Dec 03:00 UTC = 30 Nov 22:00 New York, IACV 1,000 → SAO
So: 3 SAOs, 1 SCLAU, 2 SQOs, pipeline 16,000, won 7,000, attainment 3 / 2.
IQMs: 4 Nov SAO (deal 1), 12 Nov qualified meeting, 18 Nov no-show, 19 Nov qualified
meeting on deal 2 → held 3, became SAOs 2 (2/3).
Touches: 37 calls mid-month plus one on 30 Nov 23:30 New York (38; the one on 31 Oct
23:00 New York, 1 Nov UTC, is October's), 57 emails → 38 / 19 = 2 dials and 3 emails a
working day.

Ben (team North, EMEA, ramp start 3 Nov, 4 a month): ramp month 1, quota 0, no
attainment; 21 calls → 21 / 21 = 1 dial a working day (no English holiday).
Cy (team South, AMER, ramp start June, 4 a month): quota 4, one SAO on 15 Nov: 1/4.
The team North: quota 2, 3 SAOs; activity rates the average of its SDRs'."""

from __future__ import annotations

import html
import re
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from fractions import Fraction
from zoneinfo import ZoneInfo

import pytest

from leads.models import ActivityType, Status
from opportunities import dashboards, quota, services
from opportunities.models import Disposition, Stage
from sdrcrm.errors import Refused
from sdrcrm.models import Role, Segment
from tests.factories import (
    AccountFactory,
    ActivityFactory,
    IQMFactory,
    OpportunityFactory,
    TeamFactory,
    UserFactory,
)
from tests.opportunities.conftest import sao_ready

pytestmark = pytest.mark.django_db

NY = ZoneInfo("America/New_York")
AFTER_NOVEMBER = datetime(2026, 12, 5, 12, 0, tzinfo=UTC)
NOVEMBER = date(2026, 11, 1)


def at(day: int, hour: int = 12, month: int = 11) -> datetime:
    return datetime(2026, month, day, hour, 0, tzinfo=NY)


@pytest.fixture
def world(settings):
    settings.COMPANY_TIME_ZONE = "America/New_York"
    north, south = TeamFactory(name="North"), TeamFactory(name="South")
    manager = UserFactory(role=Role.SDR_MANAGER, team=north)
    north.manager = manager
    north.save()
    ana = UserFactory(username="ana", team=north, region="amer", ramp_start_date=date(2026, 10, 15),
                      monthly_sao_quota=4)
    ben = UserFactory(username="ben", team=north, region="emea", ramp_start_date=date(2026, 11, 3),
                      monthly_sao_quota=4)
    cy = UserFactory(username="cy", team=south, region="amer", ramp_start_date=date(2026, 6, 1),
                     monthly_sao_quota=4)
    large, mid = AccountFactory(segment=Segment.LARGE), AccountFactory(segment=Segment.MID_MARKET)
    smb = AccountFactory(segment=Segment.SMB)
    deal1 = OpportunityFactory(sdr=ana, account=large, stage=Stage.DISCOVERY, iacv=10_000,
                               sales_accepted_date=date(2026, 11, 5))
    deal2 = OpportunityFactory(sdr=ana, account=mid, stage=Stage.SCOPING, iacv=5_000,
                               sales_accepted_date=date(2026, 11, 20), sales_qualified=True,
                               sales_qualified_date=date(2026, 11, 25))
    OpportunityFactory(sdr=ana, account=large, stage=Stage.DISCOVERY, iacv=50_000, professional_services=True,
                       sales_accepted_date=date(2026, 11, 10), sales_qualified_date=date(2026, 11, 12))
    OpportunityFactory(sdr=ana, account=mid, stage=Stage.CLOSED_WON, iacv=7_000,
                       sales_accepted_date=date(2026, 10, 30), sales_qualified=True,
                       sales_qualified_date=date(2026, 11, 3), closed_at=at(30, 23) + timedelta(minutes=30))
    OpportunityFactory(sdr=ana, account=mid, stage=Stage.DISCOVERY, iacv=9_000,
                       sales_accepted_date=date(2026, 12, 1))
    # Accepted by its AE at 22:00 on 30 November in New York, 03:00 on 1 December in UTC.
    sixth = sao_ready(sdr=ana, account=smb, iacv=1_000)
    services.change_stage(sixth, Stage.DISCOVERY, by=sixth.owner, now=datetime(2026, 12, 1, 3, 0, tzinfo=UTC))
    OpportunityFactory(sdr=cy, account=mid, stage=Stage.DISCOVERY, iacv=4_000,
                       sales_accepted_date=date(2026, 11, 15))
    IQMFactory(sdr=ana, start=at(4), disposition=Disposition.SAO, opportunity=deal1)
    IQMFactory(sdr=ana, start=at(12), disposition=Disposition.QUALIFIED_MEETING)
    IQMFactory(sdr=ana, start=at(18), disposition=Disposition.NO_SHOW)
    IQMFactory(sdr=ana, start=at(19), disposition=Disposition.QUALIFIED_MEETING, opportunity=deal2)
    for n in range(37):
        ActivityFactory(created_by=ana, type=ActivityType.CALL, occurred_at=at(2 + n % 20))
    ActivityFactory(created_by=ana, type=ActivityType.CALL, occurred_at=at(30, 23) + timedelta(minutes=30))
    ActivityFactory(created_by=ana, type=ActivityType.CALL, occurred_at=at(31, 23, month=10))
    for n in range(57):
        ActivityFactory(created_by=ana, type=ActivityType.EMAIL_SENT, occurred_at=at(3 + n % 20))
    ActivityFactory(created_by=ana, type=ActivityType.NOTE, occurred_at=at(10))  # no dial, no email
    for n in range(21):
        ActivityFactory(created_by=ben, type=ActivityType.CALL, occurred_at=at(2 + n))
    return {"ana": ana, "ben": ben, "cy": cy, "manager": manager, "north": north, "south": south, "ops":
            UserFactory(role=Role.OPS)}


def row_of(board: dashboards.Dashboard, username: str) -> dashboards.Figures:
    return next(row.figures for row in board.rows if row.sdr.username == username)


def test_the_ramp_gives_nothing_then_half_then_all_at_each_month_boundary():
    start = date(2026, 10, 15)
    assert [quota.ramp_share(start, date(2026, month, 1)) for month in (9, 10, 11, 12)] == [
        0, 0, Fraction(1, 2), 1]
    assert quota.ramp_share(None, NOVEMBER) == 1
    q4 = quota.period_of(quota.QUARTER, date(2026, 11, 17))
    assert (q4.first, q4.last, q4.label) == (date(2026, 10, 1), date(2026, 12, 31), "Q4 2026")
    assert quota.quota(4, start, q4) == 6  # October 0, November 2, December 4


def test_november_figures_per_sdr_match_the_hand_count(world):
    board = dashboards.sao_dashboard(world["ops"], "month", NOVEMBER, now=AFTER_NOVEMBER)

    ana = row_of(board, "ana")
    assert (ana.saos, ana.sclau, ana.sqos) == (3, 1, 2)
    assert (ana.pipeline_iacv, ana.won_iacv) == (Decimal(16_000), Decimal(7_000))
    assert (ana.iqms_held, ana.iqms_to_sao, ana.iqm_to_sao) == (3, 2, Fraction(2, 3))
    assert (ana.quota, ana.attainment, ana.projection) == (2, Fraction(3, 2), 3)
    assert (ana.dials, ana.emails, ana.dials_per_day, ana.emails_per_day) == (38, 57, 2, 3)
    ben = row_of(board, "ben")
    assert (ben.quota, ben.attainment, ben.dials, ben.dials_per_day) == (0, None, 21, 1)
    cy = row_of(board, "cy")
    assert (cy.saos, cy.quota, cy.attainment) == (1, 4, Fraction(1, 4))
    assert {row.sdr.username: row.ramp_month for row in board.rows} == {"ana": 2, "ben": 1, "cy": 6}


def test_team_rows_sum_their_sdrs_and_average_their_activity(world):
    board = dashboards.sao_dashboard(world["ops"], "month", NOVEMBER, now=AFTER_NOVEMBER)

    north = next(row for row in board.teams if row.team == world["north"])
    assert (north.sdrs, north.figures.saos, north.figures.quota, north.figures.attainment) == (
        2, 3, 2, Fraction(3, 2))
    assert north.figures.dials_per_day == Fraction(3, 2)  # (2 + 1) / 2
    assert (board.total.saos, board.total.quota, board.total.pipeline_iacv) == (4, 6, Decimal(20_000))


def test_mid_month_the_projection_carries_the_pace_over_the_working_days(world):
    # 13 November, New York: 9 working days gone (2–13 less Veterans Day) of 19; the
    # fixture's 3 SAOs make a pace of 3 / 9 a working day.
    board = dashboards.sao_dashboard(world["ana"], "month", None, now=at(13, 17))

    assert board.period.first == NOVEMBER
    ana = row_of(board, "ana")
    assert (ana.saos, ana.projection) == (3, Fraction(3 * 19, 9))
    assert ana.dials_per_day == Fraction(38, 9)  # touches over the working days gone


def test_a_quarter_sums_its_months_quota(world):
    board = dashboards.sao_dashboard(world["ana"], "quarter", NOVEMBER, now=AFTER_NOVEMBER)
    ana = row_of(board, "ana")
    assert (board.period.label, ana.quota) == ("Q4 2026", 6)
    assert ana.saos == 5  # October's (deal 4) and December's (deal 5) count in the quarter


def test_each_sees_their_own_a_manager_their_teams_and_another_team_is_not_found(world):
    assert [row.sdr.username for row in dashboards.sao_dashboard(world["ana"], "month", NOVEMBER).rows] == ["ana"]
    manager = world["manager"]
    assert {row.sdr.username for row in dashboards.sao_dashboard(manager, "month", NOVEMBER).rows} == {
        "ana", "ben"}
    with pytest.raises(Refused) as refused:
        dashboards.sao_dashboard(manager, "month", NOVEMBER, team=world["south"].pk)
    assert refused.value.status == 404
    with pytest.raises(Refused) as refused:
        dashboards.sao_dashboard(manager, "month", NOVEMBER, sdr=world["cy"].pk)
    assert refused.value.status == 404
    with pytest.raises(Refused) as refused:
        dashboards.sao_dashboard(UserFactory(role=Role.AE), "month", NOVEMBER)
    assert refused.value.status == 403


def test_the_dashboard_reads_in_the_same_queries_for_one_or_many_sdrs(world, django_assert_num_queries):
    lead_through(world["ana"], "webcast", at(3), accepted=at(4))
    with django_assert_num_queries(6):  # the SDRs, their deals, IQMs and touches; the funnel: cohort, deals
        dashboards.sao_dashboard(world["ops"], "month", NOVEMBER, now=AFTER_NOVEMBER)
    for _ in range(5):
        UserFactory(team=world["north"], monthly_sao_quota=3)
        lead_through(world["ana"], "webcast", at(3), accepted=at(4))
    with django_assert_num_queries(6):
        dashboards.sao_dashboard(world["ops"], "month", NOVEMBER, now=AFTER_NOVEMBER)


# --- the API and the page ----------------------------------------------------------------------


def test_the_api_answers_the_hand_count_and_refuses_another_team_with_404(world, client):
    client.force_login(world["manager"])
    answer = client.get("/api/v1/dashboards/sao/?period=month&start=2026-11-17")
    assert answer.status_code == 200
    body = answer.json()
    assert body["period"] == {"kind": "month", "first": "2026-11-01", "last": "2026-11-30", "label": "November 2026"}
    ana = next(row for row in body["sdrs"] if row["username"] == "ana")
    assert ana["ramp_month"] == 2
    assert {key: ana["figures"][key] for key in ("saos", "sclau", "sqos", "iqms_held", "iqm_to_sao", "pipeline_iacv",
                                                  "won_iacv", "quota", "attainment", "projection", "dials_per_day",
                                                  "emails_per_day")} == {
        "saos": 3, "sclau": 1, "sqos": 2, "iqms_held": 3, "iqm_to_sao": 0.667, "pipeline_iacv": "16000.00",
        "won_iacv": "7000.00", "quota": 2.0, "attainment": 1.5, "projection": 3.0, "dials_per_day": 2.0,
        "emails_per_day": 3.0}
    assert {row["username"] for row in body["sdrs"]} == {"ana", "ben"}
    other = client.get(f"/api/v1/dashboards/sao/?team={world['south'].pk}")
    assert other.status_code == 404 and "No team" in other.json()["detail"]
    assert client.get("/api/v1/dashboards/sao/?period=year").status_code == 400
    assert client.get("/api/v1/dashboards/sao/?start=someday").status_code == 400
    client.force_login(UserFactory(role=Role.AE))
    assert client.get("/api/v1/dashboards/sao/").status_code == 403


def test_the_page_shows_the_figures_and_links_the_saos_to_the_deals_behind_them(world, client):
    client.force_login(world["manager"])
    page = client.get("/dashboards/sao/?period=month&start=2026-11-01").content.decode()

    assert "SAO dashboard · November 2026" in page and "150 %" in page and "$16,000" in page
    ana = world["ana"]
    link = (f"/opportunities/?sdr={ana.pk}&amp;accepted_from=2026-11-01&amp;accepted_to=2026-11-30"
            "&amp;credited=on")
    assert f'href="{link}"' in page
    # Behind the figure: the three SAOs, not the professional-services deal.
    client.force_login(world["ops"])
    listed = client.get(link.replace("&amp;", "&")).content.decode()
    assert listed.count('name="opportunity"') == 3
    # Every other figure links to its deals too: SCLAU 1, SQOs 2 (not the professional-services
    # one), won 1 (closed at 23:30 on 30 November in New York: November's, though 1 December in UTC).
    client.force_login(world["manager"])
    behind = {}
    for figure in ("SCLAU", "SQOs"):
        found = re.search(rf'href="([^"]+)" aria-label="\d+ {figure} of {ana.get_full_name()}"', page)
        behind[figure] = found.group(1).replace("&amp;", "&")
    found = re.search(rf'href="([^"]+)" aria-label="Deals {ana.get_full_name()} is credited with won"', page)
    behind["won"] = found.group(1).replace("&amp;", "&")
    iqms = re.search(rf'href="([^"]+)" aria-label="3 IQMs held by {ana.get_full_name()}"', page).group(1)
    client.force_login(world["ops"])
    counts = {figure: client.get(url).content.decode().count('name="opportunity"') for figure, url in behind.items()}
    assert counts == {"SCLAU": 1, "SQOs": 2, "won": 1}
    # The three held IQMs (4, 12 and 19 November), not the no-show.
    assert client.get(iqms.replace("&amp;", "&")).content.decode().count("data-iqm=") == 3
    assert "won_from=2026-11-01&won_to=2026-11-30" in behind["won"] and "segment=large" in behind["SCLAU"]
    # A team's figures link to its SDRs' records: the north team's SAOs and IQMs held.
    team = {figure: re.search(rf'href="([^"]+)" aria-label="(\d+) {figure} team North"', page)
            for figure in ("SAOs of", "IQMs held by")}
    assert client.get(html.unescape(team["SAOs of"].group(1))).content.decode().count('name="opportunity"') == int(
        team["SAOs of"].group(2)) == 3
    assert client.get(html.unescape(team["IQMs held by"].group(1))).content.decode().count("data-iqm=") == int(
        team["IQMs held by"].group(2)) == 3
    assert client.get(f"/dashboards/sao/?team={world['south'].pk}").status_code == 200  # ops see every team
    client.force_login(world["manager"])
    assert client.get(f"/dashboards/sao/?team={world['south'].pk}").status_code == 404
    client.force_login(UserFactory(role=Role.AE))  # a seller: refused in words, inside the layout
    refused = client.get("/dashboards/sao/")
    assert refused.status_code == 403 and "for sales development, their managers and ops" in refused.content.decode()


def test_the_all_row_links_its_teams_records_together(world, client):
    """Ops see both teams: the "All" row's lists are North's and South's together (Ana's three
    SAOs and Cy's one; Ana's three IQMs held), as its figures count them. A manager of one
    team has no "All" row."""
    client.force_login(world["ops"])
    page = client.get("/dashboards/sao/?period=month&start=2026-11-01").content.decode()
    saos = re.search(r'href="([^"]+)" aria-label="(\d+) SAOs of all these teams"', page)
    iqms = re.search(r'href="([^"]+)" aria-label="(\d+) IQMs held by all these teams"', page)
    assert int(saos.group(2)) == 4 and int(iqms.group(2)) == 3
    assert client.get(html.unescape(saos.group(1))).content.decode().count('name="opportunity"') == 4
    assert client.get(html.unescape(iqms.group(1))).content.decode().count("data-iqm=") == 3
    # A team outside the row is not in its lists: Cy's SAO leaves when South is not asked for.
    north_only = html.unescape(saos.group(1)).replace(f"&sdr_team={world['south'].pk}", "")
    assert client.get(north_only).content.decode().count('name="opportunity"') == 3
    client.force_login(world["manager"])
    assert "all these teams" not in client.get("/dashboards/sao/?period=month&start=2026-11-01").content.decode()


def test_the_sdr_table_exports_as_csv(world, client):
    client.force_login(world["ana"])
    response = client.get("/dashboards/sao/?period=month&start=2026-11-01&format=csv")
    lines = b"".join(response.streaming_content).decode().splitlines()
    assert lines[0].startswith("SDR,team,ramp month,SAOs,quota,attainment")
    assert len(lines) == 2 and ",2,3,2,150 %," in lines[1]


# --- the funnel ------------------------------------------------------------------------------


def lead_through(owner, source: str, mql_at: datetime, **reached: datetime):
    """A lead of `owner` from `source` that became MQL at `mql_at` and then each status of
    `reached` (accepted, qualifying) at its time."""
    from leads.models import StatusChange
    from tests.factories import LeadFactory

    lead = LeadFactory(owner=owner, initial_source=source, status=Status.MQL, mql_at=mql_at,
                       **{f"{status}_at": moment for status, moment in reached.items()})
    for status, moment in reached.items():
        StatusChange.objects.create(lead=lead, old=Status.MQL, new=status, cause="manual", at=moment)
    return lead


def november_funnel(world) -> None:
    """The leads of the funnel's hand count (see the test below)."""
    ana = world["ana"]
    full = lead_through(ana, "contact_request", at(2), accepted=at(3), qualifying=at(5))
    lead_through(ana, "contact_request", at(4), accepted=at(8))
    lead_through(ana, "contact_request", at(6))
    lead_through(ana, "webcast", at(10), accepted=at(11), qualifying=at(15))
    lead_through(ana, "webcast", at(30, 21))
    lead_through(ana, "webcast", at(31, 23, month=10))
    OpportunityFactory(lead=full, sdr=ana, account=AccountFactory(segment=Segment.LARGE), stage=Stage.CLOSED_WON,
                       sales_accepted_date=date(2026, 11, 10),
                       sales_qualified=True, sales_qualified_date=date(2026, 11, 20), closed_at=at(25))
    OpportunityFactory(lead=lead_through(ana, "webcast", at(12), accepted=at(13), qualifying=at(14)), sdr=ana,
                       professional_services=True, sales_accepted_date=date(2026, 11, 16))  # never counted


def test_the_funnel_follows_novembers_mqls_by_source_to_won_with_median_days(world):
    """contact_request: three MQLs (2, 4 and 6 Nov); two accepted (after 1 and 4 days: median
    2.5), one qualifying two days later, its deal accepted 5 days after that, qualified 10
    days later, won 5 days after. webcast: one MQL on 10 Nov and one at 21:00 on 30 Nov in
    New York (1 Dec in UTC), and one on 12 Nov accepted and qualifying whose deal is
    professional services (never an SAO); the one on 31 Oct at 23:00 New York is October's."""
    november_funnel(world)
    rows = {row.source: row for row in dashboards.funnel(world["manager"], "month", NOVEMBER, now=AFTER_NOVEMBER)}

    contact = rows["contact_request"]
    assert contact.counts == {"mql": 3, "accepted": 2, "qualifying": 1, "sao": 1, "sqo": 1, "won": 1}
    assert contact.rates == {"mql": None, "accepted": Fraction(2, 3), "qualifying": Fraction(1, 2), "sao": 1,
                             "sqo": 1, "won": 1}
    assert contact.days == {"mql": None, "accepted": 2.5, "qualifying": 2, "sao": 5, "sqo": 10, "won": 5}
    assert contact.sclau == 1  # its SAO is on a large account
    webcast = rows["webcast"]
    assert webcast.counts == {"mql": 3, "accepted": 2, "qualifying": 2, "sao": 0, "sqo": 0, "won": 0}
    # A lead whose history skips Accepted (qualified at once) still passed it: never above 100 %.
    lead_through(world["ana"], "webcast", at(16), qualifying=at(17))
    webcast = {row.source: row for row in dashboards.funnel(world["manager"], "month", NOVEMBER)}["webcast"]
    assert (webcast.counts["accepted"], webcast.counts["qualifying"], webcast.rates["qualifying"]) == (3, 3, 1)
    assert webcast.days["accepted"] == 1  # the days only where both are known: 10 → 11 and 12 → 13 Nov
    assert (webcast.label, webcast.sclau) == ("Webcast", 0)
    # Another team's SDR's leads are not the manager's funnel.
    lead_through(world["cy"], "newsletter", at(9))
    assert "newsletter" not in {row.source for row in dashboards.funnel(world["manager"], "month", NOVEMBER)}


def test_a_lead_counts_by_its_first_deal_and_its_deal_takes_it_past_the_stages_its_history_skipped(world):
    """conference: one MQL (3 Nov) never marked Accepted nor Qualifying, whose first deal is an SAO
    on 9 Nov and SQO on 19 Nov on a large account; a second deal of the same lead (won, mid
    segment) is not the one counted. Another MQL (5 Nov) with two deals: the first a
    pending one, the second an SAO; it is not an SAO of the funnel."""
    ana = world["ana"]
    skipped = lead_through(ana, "conference", at(3))
    OpportunityFactory(lead=skipped, sdr=ana, account=AccountFactory(segment=Segment.LARGE),
                       sales_accepted_date=date(2026, 11, 9), sales_qualified=True,
                       sales_qualified_date=date(2026, 11, 19))
    OpportunityFactory(lead=skipped, sdr=ana, account=AccountFactory(segment=Segment.MID_MARKET),
                       stage=Stage.CLOSED_WON, sales_accepted_date=date(2026, 11, 10), closed_at=at(20))
    pending = lead_through(ana, "conference", at(5), accepted=at(6))
    OpportunityFactory(lead=pending, sdr=ana)
    OpportunityFactory(lead=pending, sdr=ana, sales_accepted_date=date(2026, 11, 12))

    rows = dashboards.funnel(world["manager"], "month", NOVEMBER, now=AFTER_NOVEMBER)
    conference = next(row for row in rows if row.source == "conference")

    assert conference.counts == {"mql": 2, "accepted": 2, "qualifying": 1, "sao": 1, "sqo": 1, "won": 0}
    assert conference.rates["sao"] == 1 and conference.rates["won"] == 0
    # Days only where both ends are known: MQL → Accepted 1 day (the pending one); the
    # first deal's SAO → SQO 10 days; no Qualifying day to measure its SAO from.
    assert conference.days == {"mql": None, "accepted": 1, "qualifying": None, "sao": None, "sqo": 10, "won": None}
    assert conference.sclau == 1


def test_the_median_counts_as_statistics_median_does_on_every_database(world):
    """An even number of days gives the mean of the middle two (1, 2, 4, 9 → 3); an odd
    number the middle one, as a whole number (1, 2, 4 → 2)."""
    ana = world["ana"]
    for accepted_after in (1, 2, 4, 9):
        lead_through(ana, "gated_content", at(2), accepted=at(2 + accepted_after))
    for accepted_after in (1, 2, 4):
        lead_through(ana, "webcast", at(2), accepted=at(2 + accepted_after))

    rows = {row.source: row for row in dashboards.funnel(world["manager"], "month", NOVEMBER, now=AFTER_NOVEMBER)}

    assert rows["gated_content"].days["accepted"] == 3 and isinstance(rows["webcast"].days["accepted"], int)
    assert rows["webcast"].days["accepted"] == 2


def test_each_funnel_count_opens_the_leads_it_counts(world, client, django_assert_max_num_queries):
    """Every count of the funnel, followed, lists exactly the leads it counts, for a manager
    and for the SDR: the hand count's leads, a webcast lead qualified without being accepted,
    and a conference lead never marked Accepted or Qualifying whose deal, an SAO, takes it
    past both."""
    november_funnel(world)
    ana = world["ana"]
    lead_through(ana, "webcast", at(16), qualifying=at(17))
    OpportunityFactory(lead=lead_through(ana, "conference", at(3)), sdr=ana, sales_accepted_date=date(2026, 11, 9))
    for user in (world["manager"], ana):
        client.force_login(user)
        page = client.get("/dashboards/sao/?period=month&start=2026-11-01").content.decode()
        links = re.findall(r'href="([^"]+)" aria-label="(\d+) ([\w ]+) leads that reached (\w+)"', page)
        assert len(links) == 3 * 6  # contact request, webcast and conference, six stages each
        for url, count, source, stage in links:
            listed = client.get(html.unescape(url))
            assert listed.status_code == 200
            assert listed.content.decode().count("data-lead=") == int(count), (source, stage)
        conference = {stage: url for url, _, source, stage in links if source == "Conference"}
        assert "data-lead=" in client.get(html.unescape(conference["Qualifying"])).content.decode()
        # SCLAU by source: the contact request whose SAO is on a large account; none of the others.
        sclau = re.findall(r'href="([^"]+)" aria-label="(\d+) ([\w ]+) leads whose SAO is SCLAU"', page)
        assert {source: int(count) for _, count, source in sclau} == {"Contact Request": 1, "Webcast": 0,
                                                                        "Conference": 0}
        for url, count, _ in sclau:
            assert client.get(html.unescape(url)).content.decode().count("data-lead=") == int(count)
    client.force_login(world["manager"])
    behind = "/dashboards/sao/leads/?period=month&start=2026-11-01&source=webcast"
    for _ in range(5):
        lead_through(ana, "webcast", at(20), accepted=at(21))
    # Session and user, the teams and SDRs in scope, the page's ids, its leads and owners, the unread
    # count, the session's save…
    with django_assert_max_num_queries(11):
        assert client.get(f"{behind}&stage=accepted").content.decode().count("data-lead=") == 8
    assert client.get(f"{behind}&stage=accepted&team={world['south'].pk}").status_code == 404  # another team
    assert client.get(f"{behind}&stage=promoted").status_code == 404
    client.force_login(UserFactory(role=Role.AE))
    assert client.get(f"{behind}&stage=accepted").status_code == 403


def test_the_funnel_is_in_the_api_on_the_page_and_in_its_csv(world, client):
    ana = world["ana"]
    lead_through(ana, "contact_request", at(2), accepted=at(3))
    lead_through(ana, "contact_request", at(4))
    client.force_login(world["manager"])

    body = client.get("/api/v1/dashboards/sao/?period=month&start=2026-11-01").json()
    assert body["funnel"] == [{"source": "contact_request", "label": "Contact Request",
                               "counts": {"mql": 2, "accepted": 1, "qualifying": 0, "sao": 0, "sqo": 0, "won": 0},
                               "rates": {"mql": None, "accepted": 0.5, "qualifying": 0.0, "sao": None, "sqo": None,
                                         "won": None},
                               "days": {"mql": None, "accepted": 1, "qualifying": None, "sao": None, "sqo": None,
                                        "won": None}, "sclau": 0}]
    page = client.get("/dashboards/sao/?period=month&start=2026-11-01").content.decode()
    assert "Funnel of the period" in page and "50 % · 1 d" in page
    csv_lines = b"".join(client.get("/dashboards/sao/?period=month&start=2026-11-01&format=csv&table=funnel")
                         .streaming_content).decode().splitlines()
    assert csv_lines[0].startswith("initial source,MQL count,MQL rate,MQL median days,Accepted count")
    assert csv_lines[1].startswith("Contact Request,2,,,1,50 %,1,0,0 %,")


def test_the_funnel_counts_its_cohort_through_the_owner_and_mql_time_index(world):
    from django.db import connection

    from leads.models import Lead
    from tests.conftest import on_postgres, require

    require(on_postgres(), "CI must run on PostgreSQL", "query plans need PostgreSQL")
    Lead.objects.bulk_create([
        Lead(email=f"p{i}@company{i}.com", last_name=f"Name{i}", owner=world["ana"] if i % 2 else world["cy"],
             status=Status.MQL, status_changed_at=at(1), mql_at=at(1 + i % 28), initial_source="webcast")
        for i in range(2000)
    ])
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE leads_lead")
        cursor.execute("SET LOCAL enable_seqscan = off")
    plan = dashboards._cohort_by_source([world["ana"].pk], quota.period_of("quarter", NOVEMBER)).explain()
    assert "lead_owner_mql_live" in plan and "Seq Scan" not in plan, plan


def test_each_sdrs_dials_and_emails_day_by_day_in_the_company_calendar(world, client):
    """ana's 37 calls fall two a day on 2–18 November and one on 19–21, one more at 23:30 on
    30 November in New York; her 57 emails three a day on 3–19 and two on 20–22. Thanksgiving
    (26 November) is no working day in AMER."""
    board = dashboards.sao_dashboard(world["ops"], "month", NOVEMBER, now=AFTER_NOVEMBER)
    row = next(row for row in board.rows if row.sdr.username == "ana")
    days = {day.day: day for day in row.days}

    assert len(row.days) == 30 and row.days[0].day == date(2026, 11, 1)
    assert [(days[date(2026, 11, d)].dials, days[date(2026, 11, d)].emails) for d in (1, 2, 3, 19, 21, 22, 30)] == [
        (0, 0), (2, 0), (2, 3), (1, 3), (1, 2), (0, 2), (1, 0)]
    assert (sum(day.dials for day in row.days), sum(day.emails for day in row.days)) == (38, 57)
    assert not days[date(2026, 11, 26)].working and not days[date(2026, 11, 1)].working
    assert days[date(2026, 11, 2)].working
    mid_month = dashboards.sao_dashboard(world["ops"], "month", NOVEMBER, now=at(10, 15))
    assert len(next(r for r in mid_month.rows if r.sdr.username == "ana").days) == 10  # the days so far

    client.force_login(world["manager"])
    body = client.get("/api/v1/dashboards/sao/?period=month&start=2026-11-01").json()
    api_days = next(r for r in body["sdrs"] if r["username"] == "ana")["days"]
    assert api_days[2] == {"day": "2026-11-03", "dials": 2, "emails": 3, "working": True}
    page = client.get("/dashboards/sao/?period=month&start=2026-11-01").content.decode()
    assert 'class="spark"' in page and "Dials and emails of" in page


def test_a_converted_lead_keeps_its_place_in_the_funnel(world):
    """Conversion moves the status history to the contact; the funnel reads the lead's own
    first Accepted and Qualifying days, so a converted lead still counts with its days."""
    from leads.conversion import convert_lead
    from leads.models import Lead, StatusChange

    lead = lead_through(world["ana"], "webcast", at(5), accepted=at(6), qualifying=at(8))
    Lead.objects.filter(pk=lead.pk).update(status=Status.QUALIFYING)
    lead.refresh_from_db()
    convert_lead(lead, by=world["ana"], new_account={"name": "Converted Co"}, now=at(9))
    assert not StatusChange.objects.filter(lead=lead, new=Status.ACCEPTED).exists()  # moved to the contact

    webcast = {row.source: row for row in dashboards.funnel(world["manager"], "month", NOVEMBER)}["webcast"]
    assert (webcast.counts["accepted"], webcast.counts["qualifying"]) == (1, 1)
    assert (webcast.days["accepted"], webcast.days["qualifying"]) == (1, 2)
