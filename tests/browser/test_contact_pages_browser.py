"""An SDR works a contact in a real Chromium: My MQL contacts, the contact's page, Accept."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from leads.models import Status
from tests.factories import ContactFactory

from .conftest import login

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.usefixtures("seeded")]


def test_an_sdr_opens_an_mql_contact_and_accepts_it(page, live_server, sdr):
    ContactFactory(owner=sdr, first_name="Cora", last_name="Contact", status=Status.MQL)
    ContactFactory(owner=sdr, first_name="Quinn", last_name="Talking", status=Status.QUALIFYING)

    login(page, live_server, sdr)
    page.get_by_role("link", name="Contacts").click()
    page.get_by_role("link", name="My MQL contacts").click()
    expect(page.locator("table tbody tr")).to_have_count(1)
    page.get_by_role("link", name="Cora Contact").click()

    expect(page.get_by_role("heading", name="Cora Contact")).to_contain_text("MQL")
    page.locator("select[name=status]").select_option(label="Accepted")
    page.get_by_role("button", name="Change").click()

    expect(page.get_by_role("status")).to_contain_text("Status is now Accepted")
    expect(page.get_by_role("heading", name="Cora Contact")).to_contain_text("Accepted")
    expect(page.locator("table").first).to_contain_text("MQL → Accepted")
