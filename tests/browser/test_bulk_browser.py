"""A manager's day in a real Chromium: an SDR is on leave, so the manager opens that SDR's
MQLs from the team queues, ticks three, gives them to a teammate in one action and reads
each row's outcome;
then every MQL matching a filter is recycled at once."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from leads.models import Lead, Status
from tests.factories import LeadFactory

from .conftest import login, screenshots

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.usefixtures("seeded")]


def test_a_manager_reassigns_three_leads_of_an_sdr_on_leave(page, live_server, manager, sdr, teammate):
    sdr.first_name, sdr.last_name = "Sam", "Away"
    sdr.save()
    teammate.first_name, teammate.last_name = "Tia", "Cover"
    teammate.save()
    leads = [LeadFactory(owner=sdr, status=Status.MQL, first_name=name, last_name="Lead") for name in
             ("Ana", "Ben", "Cy")]
    kept = LeadFactory(owner=sdr, status=Status.MQL, first_name="Dee", last_name="Stays")

    login(page, live_server, manager)  # a manager lands on the team queues
    page.locator(f"#per-sdr tr[data-sdr='{sdr.username}'] td[data-view='my_mqls'] a").click()
    expect(page.locator("table tbody tr")).to_have_count(4)  # Sam's four MQLs
    for lead in leads:
        page.get_by_role("checkbox", name=f"Select {lead.full_name}").check()
    bar = page.get_by_role("group", name="With the leads ticked")
    bar.get_by_label("Action").select_option("assign")
    bar.get_by_label("New owner").select_option(label="Tia Cover")
    screenshots(page, "bulk-selection")
    bar.get_by_role("button", name="Run the action").click()

    expect(page.get_by_role("heading", level=1)).to_have_text("Assign to Tia Cover")
    expect(page.locator("#bulk-progress")).to_contain_text("Finished: 3 of 3")
    expect(page.locator("#bulk-progress")).to_contain_text("3 done, 0 refused")
    screenshots(page, "bulk-result")
    assert set(Lead.objects.filter(pk__in=[x.pk for x in leads]).values_list("owner", flat=True)) == {teammate.pk}
    assert Lead.objects.get(pk=kept.pk).owner == sdr


def test_every_mql_matching_the_filter_is_recycled_with_its_reason(page, live_server, ops, settings):
    settings.BULK_ACTION_INLINE = 100
    mqls = LeadFactory.create_batch(4, status=Status.MQL)
    raw = LeadFactory(status=Status.RAW)

    login(page, live_server, ops)
    page.goto(f"{live_server.url}/leads/?status=mql")
    bar = page.get_by_role("group", name="With the leads ticked")
    bar.get_by_label("Action").select_option("status")
    bar.get_by_label("New status").select_option("recycle")
    bar.get_by_label("Reason").select_option("evaluating")
    bar.get_by_label("every lead matching this filter").check()
    bar.get_by_role("button", name="Run the action").click()

    expect(page.locator("#bulk-progress")).to_contain_text("4 done, 0 refused")
    assert set(Lead.objects.filter(pk__in=[x.pk for x in mqls]).values_list("status", flat=True)) == {"recycle"}
    assert Lead.objects.get(pk=raw.pk).status == Status.RAW
