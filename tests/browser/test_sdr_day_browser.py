"""An SDR's whole day in a real Chromium, one page after another as they would click: the
Today page lists a contact-us MQL whose follow-up is due; its page logs a call (the SLA
clock stops), edits the phone, enrols it in a sequence, completes the due step (the lead
is Accepted), records a reply (Qualifying), books an IQM and converts it with an
opportunity for an AE, and lands on that opportunity. Screenshots of each page."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from django.utils import timezone
from playwright.sync_api import Page, expect

from leads import today
from leads.models import InitialSource, Lead, Status
from opportunities.models import IQM, Opportunity, Stage
from sdrcrm.models import Role
from tests.factories import LeadFactory, SequenceFactory, SequenceStepFactory, UserFactory

from .conftest import login, screenshots

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.usefixtures("seeded")]


def before_the_day_ends(sdr):
    """Half way from now to the SDR's midnight: due today whatever the hour the test runs."""
    now = timezone.now()
    return now + (today.end_of_day(sdr, now) - now) / 2


def status_message(page: Page):
    return page.locator(".msg").first


def test_an_sdrs_day_from_today_to_the_opportunity(page, live_server, sdr):
    UserFactory(role=Role.AE, first_name="Ari", last_name="Closer")
    sequence = SequenceFactory(name="Contact-us follow-up", steps=0)
    SequenceStepFactory(sequence=sequence, position=1, day_offset=0, type="call")
    SequenceStepFactory(sequence=sequence, position=2, day_offset=2, type="manual_email")
    lead = LeadFactory(owner=sdr, status=Status.MQL, first_name="Cleo", last_name="Contact", company="Hooli",
                       email="cleo@hooli.com", phone="+1 415 555 0100", initial_source=InitialSource.CONTACT_REQUEST,
                       sla_due_at=before_the_day_ends(sdr))

    login(page, live_server, sdr)
    expect(page.locator("#sla-due")).to_contain_text("Cleo Contact")
    screenshots(page, "sdr-day-1-today")
    page.locator("#sla-due").get_by_role("link", name="Cleo Contact").click()
    expect(page.get_by_role("heading", level=1)).to_contain_text("Cleo Contact")

    touch = page.locator("section#touch")
    touch.get_by_label("Touch").select_option(label="Call")
    touch.get_by_label("Call outcome").select_option(label="Connected")
    touch.get_by_label("Notes").fill("Wants a demo for the platform team")
    touch.get_by_role("button", name="Log touch").click()
    expect(status_message(page)).to_contain_text("The follow-up SLA clock stopped.")

    page.get_by_text("Edit details").click()
    edit = page.locator("details#edit")
    edit.get_by_label("Phone").fill("+1 415 555 0199")
    edit.get_by_role("button", name="Save").click()
    expect(status_message(page)).to_have_text("Saved: phone.")

    page.get_by_label("Enrol in").select_option(label="Contact-us follow-up (high touch)")
    page.get_by_role("button", name="Enrol").click()
    expect(page.locator("section", has=page.get_by_role("heading", name="Sequences"))).to_contain_text("Active")
    screenshots(page, "sdr-day-2-enrolled")

    page.get_by_role("button", name="Step completed").click()
    expect(page.get_by_role("heading", level=1)).to_contain_text("Accepted")
    page.get_by_role("button", name="Replied").click()
    expect(page.get_by_role("heading", level=1)).to_contain_text("Qualifying")

    iqms = page.locator("section.card", has=page.get_by_role("heading", name="IQMs"))
    start = (timezone.now() + timedelta(days=1)).replace(hour=15, minute=0, second=0, microsecond=0)
    iqms.get_by_label(re.compile(r"^Start \(")).fill(f"{start:%Y-%m-%dT%H:%M}")
    iqms.get_by_label(re.compile(r"^End \(")).fill(f"{start + timedelta(minutes=30):%Y-%m-%dT%H:%M}")
    iqms.get_by_role("button", name="Book IQM").click()
    expect(iqms).to_contain_text(f"{start:%Y-%m-%d %H:%M}")
    screenshots(page, "sdr-day-3-qualifying-with-iqm")

    convert = page.locator("section#convert")
    convert.locator("select[name=opportunity_owner]").select_option(label="Ari Closer (AE)")
    convert.locator("input[name=iacv]").fill("24000")
    convert.get_by_role("button", name="Convert").click()
    expect(page.locator("#converted")).to_contain_text("Converted.")
    page.locator("#converted").get_by_role("link", name="Hooli - New business").click()

    expect(page.get_by_role("heading", level=1)).to_contain_text("Hooli - New business")
    expect(page.get_by_role("heading", level=1)).to_contain_text("0-Pending Acceptance")
    screenshots(page, "sdr-day-4-opportunity")

    lead.refresh_from_db()
    assert (lead.status, lead.sla_due_at, lead.phone) == (Status.QUALIFIED, None, "+1 415 555 0199")
    opportunity = Opportunity.objects.get(lead=lead)
    assert (opportunity.stage, opportunity.sdr, opportunity.iacv) == (Stage.PENDING_ACCEPTANCE, sdr, 24000)
    assert IQM.objects.filter(opportunity=opportunity).count() == 1
    assert not Lead.objects.filter(pk=lead.pk, enrollments__state="active").exists()
