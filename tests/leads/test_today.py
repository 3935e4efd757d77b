"""Tasks and the Today page (leads/today.py): what is overdue, what is due before the end of
the user's day, and the contact requests whose follow-up SLA ends today; one-click done
and snooze; tasks added from a lead's page."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from leads import sequences
from leads import today as work
from leads.models import Status, Task
from sdrcrm.errors import Refused
from sdrcrm.models import Region
from tests.factories import LeadFactory, UserFactory

# The sdr fixture works in AMER: the pages show and read New York time.
NEW_YORK = ZoneInfo("America/New_York")
ZONE = f"{timezone.now().astimezone(NEW_YORK):%Z}"  # EST or EDT

pytestmark = pytest.mark.django_db

HOUR = timedelta(hours=1)
MINUTE = timedelta(minutes=1)


def task(owner, due_at, title="Call back", **fields) -> Task:
    return Task.objects.create(owner=owner, created_by=owner, title=title, due_at=due_at, **fields)


def test_the_day_ends_at_midnight_in_the_users_region(sdr):
    sdr.region = "emea"
    # 23:30 UTC on 1 July is 00:30 in London (BST): the day that ends is 2 July's.
    assert work.end_of_day(sdr, datetime(2026, 7, 1, 23, 30, tzinfo=UTC)) == datetime(2026, 7, 2, 23, 0, tzinfo=UTC)


def test_today_splits_overdue_from_due_today_and_leaves_tomorrow_and_done_out(sdr, teammate):
    now = timezone.now()
    late = task(sdr, now - 2 * HOUR, "Late")
    soon = task(sdr, now + MINUTE, "Soon")
    task(sdr, work.end_of_day(sdr, now) + HOUR, "Tomorrow")
    task(sdr, now - HOUR, "Done already", done_at=now)
    task(teammate, now - HOUR, "Someone else's")

    day = work.today(sdr, now)

    assert [t.pk for t in day.overdue] == [late.pk]
    assert [t.pk for t in day.due_today] == [soon.pk]


def test_contact_requests_due_today_are_listed_oldest_first(sdr):
    now = timezone.now()
    first = LeadFactory(owner=sdr, status=Status.MQL, sla_due_at=now - HOUR, sla_breached_at=now - HOUR)
    second = LeadFactory(owner=sdr, status=Status.MQL, sla_due_at=now + MINUTE)
    LeadFactory(owner=sdr, status=Status.MQL, sla_due_at=work.end_of_day(sdr, now) + HOUR)  # tomorrow
    LeadFactory(owner=sdr, status=Status.UNQUALIFIED, sla_due_at=now)  # closed: owes nothing

    assert [lead.pk for lead in work.today(sdr, now).sla_due] == [first.pk, second.pk]


def test_the_today_page_shows_the_four_lists_in_the_same_queries_for_1_or_12_rows(client, sdr):
    from django.db import connection as db
    from django.test.utils import CaptureQueriesContext

    from tests.factories import EnrollmentFactory, OpportunityFactory, SequenceFactory, SequenceStepFactory

    sequence = SequenceFactory(steps=0)
    SequenceStepFactory(sequence=sequence, position=1, day_offset=0, type="call")
    now = timezone.now()
    # A region whose day does not end within the test's dues (up to 11 minutes ahead): in
    # the last minutes before midnight in New York an AMER SDR's "soon" tasks are tomorrow's.
    sdr.region = next(region for region in Region.values
                      if work.end_of_day(UserFactory.build(region=region), now) - now > HOUR)
    sdr.save(update_fields=["region"])
    client.force_login(sdr)
    counts = []
    for rows in (1, 11):
        for n in range(rows):
            lead = LeadFactory(owner=sdr)
            task(sdr, now - HOUR * (n + 1), f"Late {n}", lead=lead)
            task(sdr, now + MINUTE * (n + 1), f"Soon {n}", opportunity=OpportunityFactory(name=f"Deal {rows}-{n}"))
            LeadFactory(owner=sdr, status=Status.MQL, sla_due_at=now + MINUTE)
            sequences.add_step_tasks([EnrollmentFactory(lead=lead, sequence=sequence, enrolled_at=now - HOUR)])
        with CaptureQueriesContext(db) as queries:
            page = client.get("/leads/today/").content.decode()
        counts.append(len(queries))
    assert counts[0] == counts[1]
    assert "Overdue (12)" in page and "Due today (12)" in page and "Follow-ups due today (12)" in page
    assert "Sequence steps due (12)" in page
    assert "Deal 11-0" in page  # a deal's task links its opportunity


def test_a_sequence_step_a_person_must_do_is_due_and_marked_done_from_today(client, sdr,
                                                                           django_capture_on_commit_callbacks):
    from leads.models import Enrollment, SequenceEvent
    from tests.factories import EnrollmentFactory, SequenceFactory, SequenceStepFactory

    sequence = SequenceFactory(steps=0, name="Trial follow-up")
    SequenceStepFactory(sequence=sequence, position=1, day_offset=0, type="auto_email")
    SequenceStepFactory(sequence=sequence, position=2, day_offset=2, type="call")
    SequenceStepFactory(sequence=sequence, position=3, day_offset=2, type="auto_email")
    now = timezone.now()
    due = EnrollmentFactory(lead=LeadFactory(owner=sdr, status=Status.MQL, last_name="Due"), sequence=sequence,
                            enrolled_at=now - timedelta(days=3), current_step=1)
    auto = EnrollmentFactory(lead=LeadFactory(owner=sdr, last_name="Auto"), sequence=sequence, enrolled_at=now)
    later = EnrollmentFactory(lead=LeadFactory(owner=sdr, last_name="Later"), sequence=sequence,
                              enrolled_at=now + timedelta(days=2), current_step=1)  # call in four days
    assert sequences.add_step_tasks([due, auto, later]) == 2  # the automatic email is nobody's task
    client.force_login(sdr)

    page = client.get("/leads/today/").content.decode()
    assert "Sequence steps due (1)" in page and "Call: step 2 of Trial follow-up" in page
    step_task = Task.objects.get(enrollment=due)

    with django_capture_on_commit_callbacks(execute=True):  # the worker applies the event
        response = client.post(f"/leads/tasks/{step_task.pk}/done/", {"next": "/leads/today/"}, follow=True)

    assert response.redirect_chain[-1][0] == "/leads/today/"
    event = SequenceEvent.objects.get(enrollment=due, step=2)
    assert (event.external_id, event.created_by, event.applied_at is not None) == (f"task-{step_task.pk}", sdr, True)
    assert Enrollment.objects.get(pk=due.pk).current_step == 2
    assert Task.objects.get(pk=step_task.pk).done_at is not None
    assert "Sequence steps due (0)" in client.get("/leads/today/").content.decode()


def test_done_and_snooze_take_one_click_and_only_the_owners(client, sdr, teammate):
    now = timezone.now()
    mine, other = task(sdr, now - HOUR), task(teammate, now - HOUR)
    client.force_login(sdr)

    response = client.post(f"/leads/tasks/{mine.pk}/done/", follow=True)

    assert "Done: Call back." in response.content.decode()
    assert Task.objects.get(pk=mine.pk).done_at is not None
    assert client.post(f"/leads/tasks/{mine.pk}/done/").status_code == 404  # done already
    assert client.post(f"/leads/tasks/{other.pk}/done/").status_code == 404
    assert client.post(f"/leads/tasks/{other.pk}/snooze/").status_code == 404
    assert Task.objects.get(pk=other.pk).done_at is None


def test_htmx_gets_the_tasks_row_back_saying_what_happened_instead_of_a_redirect(client, sdr):
    now = timezone.now()
    lead = LeadFactory(owner=sdr, first_name="Cleo", last_name="Contact")
    done, later = task(sdr, now - HOUR, lead=lead), task(sdr, now + HOUR, "Send the deck")
    client.force_login(sdr)

    answer = client.post(f"/leads/tasks/{done.pk}/done/", {"show_person": "1"}, HTTP_HX_REQUEST="true")
    snoozed = client.post(f"/leads/tasks/{later.pk}/snooze/", HTTP_HX_REQUEST="true")

    assert answer.status_code == snoozed.status_code == 200
    row = answer.content.decode()
    assert row.lstrip().startswith(f'<tr id="task-{done.pk}"') and "Done: Call back." in row
    assert "Cleo Contact" in row and "<form" not in row  # the person still shown; no action left
    later.refresh_from_db()
    assert f"Snoozed: Send the deck, now due {later.due_at.astimezone(NEW_YORK):%Y-%m-%d %H:%M %Z}." in (
        snoozed.content.decode())
    assert Task.objects.get(pk=done.pk).done_at is not None


def test_snoozing_moves_a_task_a_day_past_now_or_past_its_due_time(sdr):
    now = timezone.now()
    late, later = task(sdr, now - 5 * HOUR), task(sdr, now + 5 * HOUR)
    assert work.snooze(late, now) == now + timedelta(days=1)
    assert work.snooze(later, now) == now + 5 * HOUR + timedelta(days=1)


def test_the_actions_go_back_only_to_a_page_of_this_site(client, sdr):
    mine = task(sdr, timezone.now())
    client.force_login(sdr)
    response = client.post(f"/leads/tasks/{mine.pk}/snooze/", {"next": "https://evil.example/"})
    assert response["Location"] == "/leads/today/"


def test_a_task_added_on_a_lead_page_shows_there_and_on_today(client, sdr):
    lead = LeadFactory(owner=sdr, first_name="Cleo", last_name="Contact")
    # Before the end of the SDR's day whatever the hour (an hour from now is tomorrow late in their evening),
    # typed as the SDR's own wall-clock time: New York's.
    due = work.end_of_day(sdr, timezone.now()) - HOUR
    client.force_login(sdr)

    response = client.post(f"/leads/{lead.pk}/tasks/", {"title": "Send the deck", "kind": "email",
                                                        "due_at": due.strftime("%Y-%m-%dT%H:%M")}, follow=True)

    page = response.content.decode()
    assert f"Task added: Send the deck, due {due:%Y-%m-%d %H:%M %Z}." in page
    added = Task.objects.get()
    assert (added.owner, added.lead, added.kind, added.due_at) == (sdr, lead, "email", due)
    assert "<td>Send the deck</td>" in page
    today_page = client.get("/leads/today/").content.decode()
    assert f'<a href="/leads/{lead.pk}/">Cleo Contact</a>' in today_page


@pytest.mark.parametrize(("fields", "message"), [
    ({"title": "", "kind": "call", "due_at": "2030-01-01T10:00"}, "Task: This field is required."),
    ({"title": "x", "kind": "fax", "due_at": "2030-01-01T10:00"}, "Type: Select a valid choice."),
    ({"title": "x", "kind": "call", "due_at": "soon"}, f"Due ({ZONE}): Enter a valid date/time."),
    ({"title": "x", "kind": "call", "due_at": "2020-01-01T10:00"}, "A task cannot be due more than a day ago."),
])
def test_a_bad_task_is_told_and_not_added(client, sdr, fields, message):
    lead = LeadFactory(owner=sdr)
    client.force_login(sdr)
    page = client.post(f"/leads/{lead.pk}/tasks/", fields, follow=True).content.decode()
    assert f"No task added. {message}" in page
    assert not Task.objects.exists()


def test_a_reader_cannot_add_a_task_to_a_lead(client, sdr, teammate):
    lead = LeadFactory(owner=sdr)
    client.force_login(teammate)
    page = client.post(f"/leads/{lead.pk}/tasks/", {"title": "x", "kind": "call",
                                                    "due_at": "2030-01-01T10:00"}, follow=True).content.decode()
    assert "You may read this lead but not change it." in page and not Task.objects.exists()


def test_add_task_refuses_a_blank_title(sdr):
    with pytest.raises(Refused, match="Say what is to be done."):
        work.add_task(None, sdr, "   ", "call", timezone.now())


def test_my_qualifying_flags_the_leads_with_no_next_step_in_the_lists_own_query(client, sdr):
    from opportunities.models import IQM
    from tests.factories import EnrollmentFactory, IQMFactory

    now = timezone.now()
    enrolled, tasked, meeting, forgotten = (LeadFactory(owner=sdr, status=Status.QUALIFYING, last_name=name)
                                            for name in ("Enrolled", "Tasked", "Meeting", "Forgotten"))
    EnrollmentFactory(lead=enrolled)
    task(sdr, now + HOUR, lead=tasked)
    IQMFactory(lead=meeting, start=now + 24 * HOUR, end=now + 25 * HOUR)
    past = LeadFactory(owner=sdr, status=Status.QUALIFYING, last_name="Pastmeeting")
    IQMFactory(lead=past, start=now - 48 * HOUR, end=now - 47 * HOUR)  # a meeting held is no next step
    assert IQM.objects.count() == 2
    client.force_login(sdr)

    with CaptureQueriesContext(connection) as flagged_view:
        page = client.get("/leads/?view=my_qualifying").content.decode()
    with CaptureQueriesContext(connection) as plain_view:
        client.get("/leads/?view=my_mqls")
    assert len(flagged_view) == len(plain_view)  # the flags come with the rows

    flagged = {row.split("</a>")[0].rsplit(">", 1)[1] for row in page.split("<tr>")
               if "no next step</span>" in row}
    assert flagged == {forgotten.full_name, past.full_name}
    all_page = client.get("/leads/").content.decode()
    assert "no next step" not in all_page  # the flag is My Qualifying's


def test_each_list_shows_its_first_ten_rows_and_show_all_gives_the_rest(client, sdr):
    now = timezone.now()
    for n in range(30):
        task(sdr, now - HOUR - MINUTE * n, f"Late call {n}")
    client.force_login(sdr)

    page = client.get("/leads/today/").content.decode()
    everything = client.get("/leads/today/?more=overdue").content.decode()

    assert "Overdue (30)" in page and page.count("Late call ") == 10
    assert 'href="?more=overdue#overdue">Show all 30</a>' in page
    assert everything.count("Late call ") == 30 and "Show all 30" not in everything
