"""Logging a touch from a lead's or contact's page: the same service as the API's activity
ingest, so a follow-up stops the SLA clock and scoring and status moves apply."""

from __future__ import annotations

from datetime import timedelta
from zoneinfo import ZoneInfo

import pytest
from django.utils import timezone

from leads.models import Activity, ActivityType, Lead, Status
from tests.conftest import lead_page
from tests.factories import ContactFactory, LeadFactory

# The sdr fixture works in AMER: the pages read times as New York's.
ZONE = f"{timezone.now().astimezone(ZoneInfo('America/New_York')):%Z}"  # EST or EDT

pytestmark = pytest.mark.django_db


def post_touch(client, lead, **fields):
    return client.post(f"/leads/{lead.pk}/touch/", fields, follow=True)


def test_a_call_from_the_lead_page_is_stored_and_stops_the_sla_clock(client, sdr):
    lead = LeadFactory(owner=sdr, status=Status.MQL, sla_due_at=timezone.now() + timedelta(hours=5))
    client.force_login(sdr)

    response = post_touch(client, lead, type="call", outcome="voicemail", notes="Call back Tuesday")

    page = response.content.decode()
    assert "Call logged (left a voicemail). The follow-up SLA clock stopped." in page
    activity = Activity.objects.get(lead=lead)
    assert (activity.type, activity.details, activity.created_by) == (
        ActivityType.CALL, {"outcome": "voicemail", "notes": "Call back Tuesday"}, sdr)
    assert Lead.objects.get(pk=lead.pk).sla_due_at is None
    # The timeline says how it went and who logged it.
    assert (f'<span class="badge">activity</span> Call</td><td>Left a voicemail · Call back Tuesday</td>'
            f"<td>{sdr.get_full_name()}</td>") in page


def test_a_note_is_stored_but_is_no_follow_up(client, sdr):
    due = timezone.now() + timedelta(hours=5)
    lead = LeadFactory(owner=sdr, status=Status.MQL, sla_due_at=due)
    client.force_login(sdr)

    page = post_touch(client, lead, type="note", notes="Prefers email").content.decode()

    assert "Note logged." in page and "SLA" not in page.split("Note logged.")[1][:40]
    assert Activity.objects.get(lead=lead).details == {"notes": "Prefers email"}
    assert Lead.objects.get(pk=lead.pk).sla_due_at == due


def test_a_linkedin_message_is_a_follow_up(client, sdr):
    lead = LeadFactory(owner=sdr, status=Status.MQL, sla_due_at=timezone.now() + timedelta(hours=5))
    client.force_login(sdr)

    assert "LinkedIn message logged. The follow-up SLA clock stopped." in post_touch(
        client, lead, type="linkedin_message").content.decode()


@pytest.mark.parametrize(("fields", "message"), [
    ({"type": "call"}, "Call outcome: Say how the call went: connected, voicemail or no answer."),
    ({"type": "email_sent", "outcome": "connected"}, "Call outcome: Only a call has an outcome."),
    ({"type": "note"}, "Notes: A note needs its text."),
    ({"type": "trial_request"}, "Touch: Select a valid choice."),
    ({"type": "meeting", "occurred_at": "2099-01-01T10:00"}, f"When ({ZONE}): A touch cannot be logged in the future."),
    ({"type": "meeting", "occurred_at": "yesterday"}, f"When ({ZONE}): Enter a valid date/time."),
    ({"type": "note", "notes": "x" * 2001}, "Notes: Ensure this value has at most 2000 characters"),
])
def test_bad_input_is_told_and_nothing_is_logged(client, sdr, fields, message):
    lead = LeadFactory(owner=sdr, status=Status.MQL)
    client.force_login(sdr)

    page = post_touch(client, lead, **fields).content.decode()

    assert f"Not logged. {message}" in page
    assert not Activity.objects.filter(lead=lead).exists()


def test_a_teammate_who_may_only_read_gets_no_form_and_cannot_post(client, sdr, teammate):
    lead = LeadFactory(owner=sdr, status=Status.MQL)
    client.force_login(teammate)

    assert 'id="touch"' not in lead_page(client, lead)
    page = post_touch(client, lead, type="call", outcome="connected").content.decode()

    assert "You may read this lead but not change it." in page
    assert not Activity.objects.filter(lead=lead).exists()


def test_another_teams_lead_is_not_found(client, sdr, other_sdr):
    lead = LeadFactory(owner=other_sdr, status=Status.MQL)
    client.force_login(sdr)

    assert client.post(f"/leads/{lead.pk}/touch/", {"type": "call", "outcome": "connected"}).status_code == 404
    assert not Activity.objects.filter(lead=lead).exists()


def test_the_form_needs_the_csrf_token(sdr):
    from django.test import Client

    lead = LeadFactory(owner=sdr, status=Status.MQL)
    strict = Client(enforce_csrf_checks=True)
    strict.force_login(sdr)

    assert strict.post(f"/leads/{lead.pk}/touch/", {"type": "note", "notes": "x"}).status_code == 403
    assert not Activity.objects.filter(lead=lead).exists()


def test_an_email_from_the_contact_page_is_stored_on_the_contact(client, sdr):
    contact = ContactFactory(owner=sdr)
    client.force_login(sdr)

    page = client.get(f"/contacts/{contact.pk}/").content.decode()
    assert f'action="/contacts/{contact.pk}/touch/"' in page
    response = client.post(f"/contacts/{contact.pk}/touch/", {"type": "email_sent", "notes": "Sent the deck"},
                           follow=True)

    assert "Email sent logged." in response.content.decode()
    assert Activity.objects.get(contact=contact).details == {"notes": "Sent the deck"}


def test_a_contact_another_may_only_read_cannot_be_touched(client, sdr, teammate):
    contact = ContactFactory(owner=sdr)
    client.force_login(teammate)

    page = client.post(f"/contacts/{contact.pk}/touch/", {"type": "note", "notes": "x"}, follow=True)

    assert "You may read this contact but not change it." in page.content.decode()
    assert not Activity.objects.filter(contact=contact).exists()
