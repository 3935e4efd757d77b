"""An AE works the opportunities board in a real Chromium: accept a pending deal into
1-Discovery with the card's Move button."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from opportunities.models import Opportunity, Stage
from sdrcrm.models import Role
from tests.factories import AccountFactory, UserFactory
from tests.opportunities.conftest import sao_ready

from .conftest import login, screenshots

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.usefixtures("seeded")]


def test_an_ae_accepts_a_pending_deal_from_the_board(page, live_server):
    ae = UserFactory(role=Role.AE, first_name="Ari", last_name="Closer")
    deal = sao_ready(owner=ae, name="Globex - 300 seats", account=AccountFactory(name="Globex", owner=ae))
    login(page, live_server, ae)
    page.goto("/opportunities/board/")

    pending = page.locator("section.column", has=page.get_by_role("heading", name="0-Pending Acceptance"))
    expect(pending).to_contain_text("1 · IACV $20,000")
    screenshots(page, "board")
    pending.get_by_label("Move Globex - 300 seats to").select_option(label="1-Discovery")
    pending.get_by_role("button", name="Move").click()

    expect(page.get_by_role("status")).to_have_text("Stage is now 1-Discovery.")
    discovery = page.locator("section.column", has=page.get_by_role("heading", name="1-Discovery"))
    expect(discovery).to_contain_text("Globex - 300 seats")
    assert Opportunity.objects.get(pk=deal.pk).stage == Stage.DISCOVERY
