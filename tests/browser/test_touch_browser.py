"""An SDR logs a call from a contact-us MQL's page in a real Chromium: the message says the
SLA clock stopped, and the activities table shows the call."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone
from playwright.sync_api import expect

from leads.models import Activity, Lead, Status
from tests.factories import LeadFactory

from .conftest import login, screenshots

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.usefixtures("seeded")]


def test_an_sdr_logs_a_voicemail_on_a_contact_request_and_the_sla_clock_stops(page, live_server, sdr):
    lead = LeadFactory(owner=sdr, status=Status.MQL, first_name="Cleo", last_name="Contact",
                       sla_due_at=timezone.now() + timedelta(hours=6))
    login(page, live_server, sdr)
    page.goto(f"/leads/{lead.pk}/")

    touch = page.locator("section#touch")
    touch.get_by_label("Touch").select_option(label="Call")
    touch.get_by_label("Call outcome").select_option(label="Left a voicemail")
    touch.get_by_label("Notes").fill("Try again Thursday morning")
    screenshots(page, "lead-log-touch")
    touch.get_by_role("button", name="Log touch").click()

    expect(page.get_by_role("status")).to_have_text("Call logged (left a voicemail). The follow-up SLA clock stopped.")
    expect(page.locator("#timeline tr.tl-activity").first).to_contain_text(
        "Left a voicemail · Try again Thursday morning")
    assert Lead.objects.get(pk=lead.pk).sla_due_at is None
    assert Activity.objects.get(lead=lead).details == {"outcome": "voicemail", "notes": "Try again Thursday morning"}


def test_a_call_without_an_outcome_is_refused_in_words(page, live_server, sdr):
    lead = LeadFactory(owner=sdr, status=Status.MQL)
    login(page, live_server, sdr)
    page.goto(f"/leads/{lead.pk}/")

    page.locator("section#touch").get_by_role("button", name="Log touch").click()  # a call, no outcome

    expect(page.locator(".msg.error")).to_have_text(
        "Not logged. Call outcome: Say how the call went: connected, voicemail or no answer.")
    assert not Activity.objects.filter(lead=lead).exists()
