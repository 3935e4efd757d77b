"""The header's search box in a real Chromium: type, press Enter, open what was found."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from tests.factories import LeadFactory

from .conftest import login, screenshots

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.usefixtures("seeded")]


def test_an_sdr_finds_a_lead_by_part_of_the_name_from_any_page(page, live_server, sdr):
    lead = LeadFactory(owner=sdr, first_name="Sofia", last_name="Santos", company="Initech")
    login(page, live_server, sdr)
    page.goto("/contacts/")

    page.get_by_role("searchbox", name="Search all records").fill("sofia sant")
    page.keyboard.press("Enter")

    expect(page).to_have_title("“sofia sant” · Search · SDR CRM")
    leads = page.locator("#found-leads")
    expect(leads).to_contain_text("Initech")
    screenshots(page, "search")
    leads.get_by_role("link", name="Sofia Santos").click()
    expect(page).to_have_url(f"{live_server.url}/leads/{lead.pk}/")
