"""The IQM list (`/opportunities/iqms/`), where the SAO dashboard's "IQMs held" links: the
meetings the user may see, by SDR, by start day in the company's calendar, held only."""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

import pytest

from opportunities.models import Disposition
from tests.factories import IQMFactory, LeadFactory

pytestmark = pytest.mark.django_db
NY = ZoneInfo("America/New_York")
URL = "/opportunities/iqms/"


def listed(client, query: str = "") -> set[int]:
    page = client.get(f"{URL}?{query}")
    assert page.status_code == 200
    body = page.content.decode()
    return {int(part.split('"')[0]) for part in body.split('data-iqm="')[1:]}


def test_the_list_filters_by_sdr_day_in_the_company_calendar_and_held(client, settings, sdr, teammate, manager):
    settings.COMPANY_TIME_ZONE = "America/New_York"
    late = IQMFactory(sdr=sdr, start=datetime(2026, 11, 30, 22, 0, tzinfo=NY), disposition=Disposition.SAO)
    no_show = IQMFactory(sdr=sdr, start=datetime(2026, 11, 10, 9, 0, tzinfo=NY), disposition=Disposition.NO_SHOW)
    december = IQMFactory(sdr=sdr, start=datetime(2026, 12, 1, 9, 0, tzinfo=NY),
                          disposition=Disposition.QUALIFIED_MEETING)
    theirs = IQMFactory(sdr=teammate, start=datetime(2026, 11, 12, 9, 0, tzinfo=NY),
                        disposition=Disposition.QUALIFIED_MEETING)
    client.force_login(manager)

    assert listed(client) == {late.pk, no_show.pk, december.pk, theirs.pk}
    assert listed(client, f"sdr={sdr.pk}") == {late.pk, no_show.pk, december.pk}
    # 22:00 on 30 November in New York is 1 December in UTC: November's all the same.
    assert listed(client, "start_from=2026-11-01&start_to=2026-11-30") == {late.pk, no_show.pk, theirs.pk}
    assert listed(client, f"sdr={sdr.pk}&start_from=2026-11-01&start_to=2026-11-30&held=on") == {late.pk}


def test_each_sees_only_the_meetings_they_may(client, sdr, teammate, other_sdr, manager):
    mine = IQMFactory(sdr=sdr, lead=LeadFactory(owner=sdr))
    IQMFactory(sdr=teammate, lead=LeadFactory(owner=teammate))
    elsewhere = IQMFactory(sdr=other_sdr, lead=LeadFactory(owner=other_sdr))
    client.force_login(sdr)
    assert listed(client) == {mine.pk}
    client.force_login(manager)
    assert elsewhere.pk not in listed(client)
    assert listed(client, f"sdr={other_sdr.pk}") == set()  # another team's SDR: nothing of theirs


def test_bad_filters_answer_in_words(client, sdr):
    client.force_login(sdr)
    wrong = client.get(f"{URL}?start_from=2026-12-01&start_to=2026-11-01").content.decode()
    assert "Filter not applied: The period ends before it starts." in wrong
    assert "Filter not applied" in client.get(f"{URL}?start_from=yesterday").content.decode()
    assert "Filter not applied" in client.get(f"{URL}?sdr=abc").content.decode()
    stale = client.get(f"{URL}?cursor=garbage", follow=True)
    assert stale.redirect_chain[-1][0] == URL and "out of date" in stale.content.decode()
    client.logout()
    assert client.get(URL).status_code == 302  # to the login page


def test_the_list_reads_in_the_same_queries_for_few_or_many_meetings(client, sdr, django_assert_max_num_queries):
    client.force_login(sdr)
    IQMFactory(sdr=sdr)
    with django_assert_max_num_queries(12) as few:
        client.get(URL)
    for _ in range(15):
        IQMFactory(sdr=sdr, lead=LeadFactory(owner=sdr))
    with django_assert_max_num_queries(12) as many:
        client.get(URL)
    assert len(many.captured_queries) == len(few.captured_queries)


def test_a_meeting_with_a_deleted_lead_stays_counted_and_names_the_lead_deleted(client, sdr, manager, ops):
    """The IQM was held: it stays in the list and the SDR's figures (docs/rules.md §11.2), and
    its deleted lead reads "deleted" instead of a link to a page that is not there."""
    from leads import trash

    lead = LeadFactory(owner=sdr, first_name="Peter", last_name="Gibbons")
    meeting = IQMFactory(lead=lead, sdr=sdr, disposition=Disposition.QUALIFIED_MEETING)
    trash.delete_record(lead, by=manager)
    client.force_login(manager)

    page = client.get("/opportunities/iqms/").content.decode()

    assert f'data-iqm="{meeting.pk}"' in page
    assert 'Peter Gibbons <span class="badge">deleted</span>' in page
    assert f'href="/leads/{lead.pk}/"' not in page
