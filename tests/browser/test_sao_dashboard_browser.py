"""A manager reads the SAO dashboard in a real Chromium: the month's SAOs against each SDR's
ramped quota, a click on an SDR's SAO count opens the deals behind it, the previous month
is one link away; axe finds no serious violation. Screenshots at 1280 and 390 px."""

from __future__ import annotations

from datetime import date

import pytest
from axe_playwright_python.sync_playwright import Axe
from django.utils import timezone
from playwright.sync_api import expect

from opportunities.models import Stage
from sdrcrm.models import Role
from tests.factories import OpportunityFactory, TeamFactory, UserFactory

from .conftest import login, screenshots

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.usefixtures("seeded")]


def test_a_manager_reads_the_months_saos_and_opens_the_deals_behind_a_figure(page, live_server):
    today = timezone.localdate()
    team = TeamFactory(name="North")
    manager = UserFactory(role=Role.SDR_MANAGER, team=team)
    team.manager = manager
    team.save()
    ana = UserFactory(first_name="Ana", last_name="Diaz", team=team, monthly_sao_quota=2,
                      ramp_start_date=date(2025, 1, 1))
    UserFactory(first_name="Ben", last_name="Ode", team=team, monthly_sao_quota=4, ramp_start_date=today)
    for name in ("Acme - 100 seats", "Globex - 40 seats", "Initech - 12 seats"):
        OpportunityFactory(name=name, sdr=ana, stage=Stage.DISCOVERY, iacv=10_000, sales_accepted_date=today)
    login(page, live_server, manager)

    page.get_by_role("link", name="SAOs", exact=True).click()
    expect(page.get_by_role("heading", level=1)).to_contain_text("SAO dashboard")
    row = page.get_by_role("row", name="Ana Diaz North")
    expect(row).to_contain_text("150 %")  # 3 SAOs against 2
    expect(page.get_by_role("row", name="Ben Ode North")).to_contain_text("—")  # ramp month 1: no quota
    assert [v for v in Axe().run(page).response["violations"] if v.get("impact") in {"serious", "critical"}] == []
    screenshots(page, "sao-dashboard")

    row.get_by_role("link", name="3 SAOs of Ana Diaz").click()
    expect(page.get_by_role("heading", level=1)).to_contain_text("Opportunities")
    for name in ("Acme - 100 seats", "Globex - 40 seats", "Initech - 12 seats"):
        expect(page.get_by_role("link", name=name)).to_be_visible()
    screenshots(page, "sao-dashboard-deals")

    page.go_back()
    page.get_by_role("link", name="← previous").click()
    expect(page.get_by_role("row", name="Ana Diaz North")).to_contain_text("0 %")
