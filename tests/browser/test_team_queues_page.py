"""A manager watches their team's queues in a real Chromium: the counts, the SLA breaches,
the team picker, and a count that opens the SDR's view."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone
from playwright.sync_api import expect

from leads.models import Status
from sdrcrm.models import Role
from tests.factories import LeadFactory, TeamFactory, UserFactory

from .conftest import login, screenshots

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.usefixtures("seeded")]


def test_a_manager_reads_the_queues_picks_a_team_and_opens_an_sdrs_view(page, live_server, sdr, manager):
    now = timezone.now()
    sdr.first_name, sdr.last_name = "Sam", "Dialer"
    sdr.save()
    LeadFactory(owner=sdr, status=Status.MQL, last_name="Waiting", status_changed_at=now - timedelta(days=3))
    LeadFactory(owner=sdr, status=Status.MQL, first_name="Lou", last_name="Late", company="Globex",
                status_changed_at=now - timedelta(days=2), sla_due_at=now - timedelta(days=1),
                sla_breached_at=now - timedelta(hours=20))
    second = TeamFactory(name="Second team", manager=manager)
    UserFactory(role=Role.SDR, team=second, first_name="Tess", last_name="Other")

    login(page, live_server, manager)
    page.get_by_role("link", name="Team queues").click()

    sams = page.locator(f"#per-sdr tr[data-sdr='{sdr.username}']")
    expect(sams.locator("td[data-view='my_mqls']")).to_contain_text("2")
    expect(sams.locator("td[data-view='my_mqls']")).to_contain_text("oldest 3")
    expect(sams.locator("td[data-view='sla_breaches']")).to_contain_text("1")
    expect(page.locator("#breaches")).to_contain_text("Lou Late")
    expect(page.locator("#per-sdr")).to_contain_text("Tess Other")
    expect(page.locator("#counted-at")).to_contain_text("Counts as of")
    screenshots(page, "team-queues")
    page.set_viewport_size({"width": 390, "height": 900})
    assert page.evaluate("document.documentElement.scrollWidth") <= 390  # the tables scroll in their boxes
    page.set_viewport_size({"width": 1280, "height": 900})

    page.get_by_label("Team").select_option(label=sdr.team.name)
    expect(page.get_by_role("heading", name=f"Team queues: {sdr.team.name}")).to_be_visible()
    expect(page.locator("#per-sdr")).not_to_contain_text("Tess Other")

    sams.locator("td[data-view='my_mqls'] a").click()
    expect(page.get_by_role("heading", name="Leads")).to_be_visible()
    expect(page.locator("table tbody tr")).to_have_count(2)
    expect(page.locator("table tbody")).to_contain_text("Waiting")
