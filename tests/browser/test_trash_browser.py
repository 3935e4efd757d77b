"""Recoverable deletes in a real Chromium (docs/rules.md §11.2): a manager deletes a lead from its
page; ops find it in Recently deleted, restore it, and see it back in the lead list. The
new page has no serious accessibility violation."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from leads.models import Lead, Status
from tests.factories import LeadFactory

from .conftest import login, screenshots
from .test_accessibility import violations

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.usefixtures("seeded")]


def test_a_manager_deletes_a_lead_and_ops_restore_it_from_recently_deleted(page, live_server, sdr, manager, ops):
    lead = LeadFactory(owner=sdr, first_name="Peter", last_name="Gibbons", email="peter@initech.com",
                       status=Status.MQL)

    login(page, live_server, manager)
    page.goto(f"{live_server.url}/leads/{lead.pk}/")
    page.get_by_label("Yes, delete this lead").check()
    page.get_by_role("button", name="Delete", exact=True).click()
    expect(page.get_by_role("alert").or_(page.get_by_role("status")).first).to_contain_text("Deleted lead")
    assert not Lead.objects.filter(pk=lead.pk).exists()
    page.get_by_role("button", name="Log out").click()

    login(page, live_server, ops)
    page.get_by_role("link", name="Recently deleted").click()
    row = page.locator(f"tr[data-deleted='{lead.pk}']")
    expect(row).to_contain_text("Peter Gibbons")
    expect(row).to_contain_text(manager.get_full_name())
    assert violations(page) == []
    screenshots(page, "recently-deleted")
    row.get_by_role("button", name="Restore Peter Gibbons").click()
    expect(page.get_by_role("alert").or_(page.get_by_role("status")).first).to_contain_text("Restored lead")
    expect(page.locator(f"tr[data-deleted='{lead.pk}']")).to_have_count(0)

    page.get_by_role("link", name="Leads", exact=True).click()
    expect(page.get_by_role("link", name="Peter Gibbons")).to_be_visible()
    assert Lead.objects.get(pk=lead.pk).deleted_at is None
