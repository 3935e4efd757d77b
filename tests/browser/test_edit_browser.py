"""An SDR edits a lead's phone from its page in a real Chromium."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from leads.models import Lead
from tests.factories import LeadFactory

from .conftest import login, screenshots

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.usefixtures("seeded")]


def test_an_sdr_edits_the_phone_and_sees_it_and_its_history(page, live_server, sdr):
    lead = LeadFactory(owner=sdr, phone="+1 415 555 0100")
    login(page, live_server, sdr)
    page.goto(f"/leads/{lead.pk}/")

    page.get_by_text("Edit details").click()
    edit = page.locator("details#edit")
    edit.get_by_label("Phone").fill("+1 415 555 0199")
    screenshots(page, "lead-edit")
    edit.get_by_role("button", name="Save").click()

    expect(page.get_by_role("status")).to_have_text("Saved: phone.")
    expect(page.locator("dl")).to_contain_text("+1 415 555 0199")
    expect(page.locator("#timeline tr.tl-field")).to_contain_text("Phone changed+1 415 555 0100 → +1 415 555 0199")
    assert Lead.objects.get(pk=lead.pk).phone == "+1 415 555 0199"
