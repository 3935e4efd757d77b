"""One timeline per lead or contact (leads/timeline.py): every kind of history merged newest
first, a page at a time, none lost or shown twice across pages, one query a source."""

from __future__ import annotations

from datetime import timedelta
from urllib.parse import unquote

import pytest
from django.utils import timezone

from leads import timeline
from leads.models import Cause, SequenceEvent, Status, StatusChange
from routing.models import RoutingDecision
from sdrcrm.models import FieldChange
from tests.factories import ActivityFactory, ContactFactory, EnrollmentFactory, IQMFactory, LeadFactory

pytestmark = pytest.mark.django_db

NOW = timezone.now().replace(microsecond=0)
MIN = timedelta(minutes=1)


def every_kind(lead, sdr, sequence: str = "Trial"):
    """One row of each kind, a minute apart, oldest first: activity … routing."""
    ActivityFactory(lead=lead, type="call", occurred_at=NOW - 6 * MIN, created_by=sdr, details={"outcome": "connected"})
    StatusChange.objects.create(lead=lead, old=Status.MQL, new=Status.ACCEPTED, cause=Cause.MANUAL, by=sdr,
                                at=NOW - 5 * MIN)
    FieldChange.objects.create(record="lead", record_id=lead.pk, field="phone", old="1", new="2", by=sdr,
                               at=NOW - 4 * MIN)
    enrollment = EnrollmentFactory(lead=lead, sequence__name=sequence, state="finished", finished_at=NOW)
    SequenceEvent.objects.create(enrollment=enrollment,
                                 kind="step_completed", step=1, occurred_at=NOW - 3 * MIN, result="Lead accepted")
    IQMFactory(lead=lead, start=NOW - 2 * MIN, end=NOW - MIN)
    RoutingDecision.objects.create(lead=lead, action="owner", reason="Territory AMER East", at=NOW - MIN)


def test_every_kind_merged_newest_first(sdr):
    lead = LeadFactory(owner=sdr, first_name="Ada", last_name="Lovelace")
    every_kind(lead, sdr)

    entries, older = timeline.timeline(lead)

    assert [e.kind for e in entries] == ["routing", "iqm", "sequence", "field", "status", "activity"]
    assert older is None
    by_kind = {e.kind: e for e in entries}
    assert (by_kind["status"].title, by_kind["status"].by) == ("MQL → Accepted", sdr.get_full_name())
    assert (by_kind["field"].title, by_kind["field"].detail) == ("Phone changed", "1 → 2")
    assert by_kind["sequence"].title == "Trial: step completed (step 1)"
    assert by_kind["iqm"].title == "Ada Lovelace - IQM"
    assert (by_kind["activity"].title, by_kind["activity"].detail) == ("Call", "Connected")
    assert by_kind["routing"].detail == "Territory AMER East"


def test_pages_lose_and_repeat_nothing_even_at_equal_times(sdr, monkeypatch):
    monkeypatch.setattr(timeline, "PAGE", 3)
    lead = LeadFactory(owner=sdr)
    times = [NOW - n * MIN for n in (1, 2, 3, 3, 3, 4, 5, 6, 7)]  # three at the same minute, across a cut
    for at in times:
        ActivityFactory(lead=lead, occurred_at=at)

    seen, cursor, pages = [], None, 0
    while True:
        entries, cursor = timeline.timeline(lead, cursor)
        seen.extend(e.at for e in entries)
        pages += 1
        if cursor is None:
            break
        cursor = timeline.parse_cursor(str(cursor))  # as the page's link carries it

    assert seen == sorted(times, reverse=True)
    assert pages == 3


def test_one_query_a_source_however_long_the_history(sdr, django_assert_num_queries):
    lead = LeadFactory(owner=sdr)
    for n in range(5):
        every_kind(lead, sdr, sequence=f"Trial {n}")
    with django_assert_num_queries(6):
        timeline.timeline(lead)
    contact = ContactFactory(owner=sdr)
    with django_assert_num_queries(5):  # no routing for a contact
        timeline.timeline(contact)


def test_the_page_links_the_older_entries(client, sdr, monkeypatch):
    monkeypatch.setattr(timeline, "PAGE", 2)
    lead = LeadFactory(owner=sdr)
    for n in range(1, 4):
        ActivityFactory(lead=lead, type="email_sent", occurred_at=NOW - n * MIN)
    client.force_login(sdr)

    first = client.get(f"/leads/{lead.pk}/").content.decode()
    assert first.count('class="tl-activity"') == 2 and 'rel="next">Older →</a>' in first
    link = unquote(first.split('<a href="?before=')[1].split('#timeline"')[0])
    second = client.get(f"/leads/{lead.pk}/", {"before": link}).content.decode()
    assert second.count('class="tl-activity"') == 1 and "Older →" not in second


@pytest.mark.parametrize("cursor", ["yesterday", "2026-12-01T10:00:00+00:00|activity|²",
                                    f"2026-12-01T10:00:00+00:00|activity|{2**63}"])
def test_a_bad_cursor_shows_the_newest_and_says_so(client, sdr, cursor):
    lead = LeadFactory(owner=sdr)
    client.force_login(sdr)
    response = client.get(f"/leads/{lead.pk}/", {"before": cursor})
    assert response.status_code == 200
    assert "That timeline link is out of date; showing the newest." in response.content.decode()


def test_a_page_boundary_between_kinds_at_the_same_time_loses_nothing(sdr, monkeypatch):
    monkeypatch.setattr(timeline, "PAGE", 2)
    lead = LeadFactory(owner=sdr)
    ActivityFactory(lead=lead, occurred_at=NOW)
    StatusChange.objects.create(lead=lead, old=Status.MQL, new=Status.ACCEPTED, cause=Cause.MANUAL, at=NOW)
    FieldChange.objects.create(record="lead", record_id=lead.pk, field="phone", old="1", new="2", at=NOW)

    first, cursor = timeline.timeline(lead)
    second, last = timeline.timeline(lead, cursor)

    assert [e.kind for e in first + second] == ["field", "status", "activity"] and last is None
