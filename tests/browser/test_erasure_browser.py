"""Erasure on request in a real Chromium (docs/rules.md §11.3): ops erase a person from the
Erasures page after ticking the confirmation, the lead page then shows no name, and the
page has no serious accessibility violation."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from leads.models import Lead
from tests.factories import LeadFactory

from .conftest import login, screenshots
from .test_accessibility import violations

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.usefixtures("seeded")]


def test_ops_erase_a_person_and_their_lead_keeps_no_name(page, live_server, sdr, ops):
    lead = LeadFactory(owner=sdr, first_name="Zephyrine", last_name="Quillfeather", email="zq@hollowmere.com")

    login(page, live_server, ops)
    page.goto(f"{live_server.url}/leads/erasures/")
    page.get_by_label("Email of the person").fill("zq@hollowmere.com")
    page.get_by_label("Who asked").fill("The person, by email to privacy@")
    page.get_by_role("button", name="Erase").click()
    assert Lead.objects.filter(email="zq@hollowmere.com").exists()  # not without the confirmation
    page.get_by_label("I understand this cannot be undone").check()
    page.get_by_role("button", name="Erase").click()

    expect(page.get_by_role("alert").or_(page.get_by_role("status")).first).to_contain_text("Erased 1 lead(s)")
    expect(page.locator("tr[data-erasure]")).to_contain_text("The person, by email to privacy@")
    assert violations(page) == []
    screenshots(page, "erasures")
    page.goto(f"{live_server.url}/leads/{lead.pk}/")
    expect(page.locator("main")).not_to_contain_text("Zephyrine")
    expect(page.locator("main")).to_contain_text("[erased]")
