"""An AE's day in a real Chromium, one page after another as they would click: logging in
lands on their own work (open deals, accepted leads), where the deal an SDR handed over
waits in 0-Pending Acceptance; the board shows it in that column with the column's count and IACV;
on its page, accepting it into 1-Discovery is refused while the SAO criteria are missing,
the AE fills them in the Qualification form and accepts it; back on the board the deal
sits in 1-Discovery, and at 390 px neither the board nor the deal's page pans sideways.
Screenshots of each page."""

from __future__ import annotations

import re

import pytest
from django.utils import timezone
from playwright.sync_api import Locator, Page, expect

from opportunities.models import Opportunity, Stage
from sdrcrm.models import Role
from tests.factories import AccountFactory, UserFactory
from tests.opportunities.conftest import sao_ready

from .conftest import login, screenshots

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.usefixtures("seeded")]

DEAL = "Globex - 300 seats"


def column(page: Page, stage: str) -> Locator:
    """The board's column under the h2 `stage`."""
    return page.locator("section.column", has=page.get_by_role("heading", name=stage, exact=True))


def card(page: Page, heading: str) -> Locator:
    """The opportunity page's card (a section.card) under the h2 `heading`."""
    return page.locator("section.card", has=page.get_by_role("heading", name=heading, exact=True))


def move_to(stage_card: Locator) -> Locator:
    """The "To" select of the Change stage card (its accessible name ends with the chosen option)."""
    return stage_card.get_by_role("combobox", name=re.compile(r"^To\b"))


def test_an_aes_day_from_their_opportunities_to_an_accepted_deal(page, live_server, sdr):
    ae = UserFactory(role=Role.AE, first_name="Ari", last_name="Closer")
    # Handed over by the SDR, but nobody has confirmed authority nor written down the problem.
    deal = sao_ready(owner=ae, sdr=sdr, name=DEAL, account=AccountFactory(name="Globex", owner=ae),
                     authority_confirmed=False, business_problem="")

    # Home for an AE: their open deals and their accepted leads.
    login(page, live_server, ae)
    expect(page).to_have_url(f"{live_server.url}/opportunities/mine/")
    expect(page.get_by_role("heading", level=1)).to_have_text("My work")
    deals = card(page, "My open opportunities (1) board all of mine")
    row = deals.locator("table tbody tr", has=page.get_by_role("link", name=DEAL))
    expect(row).to_contain_text("0-Pending Acceptance")
    expect(row).to_contain_text("$20,000.00")
    screenshots(page, "ae-day-1-my-opportunities")

    page.goto("/opportunities/board/")
    expect(column(page, "0-Pending Acceptance")).to_contain_text(DEAL)
    expect(column(page, "0-Pending Acceptance").locator(".column-totals")).to_have_text("1 · IACV $20,000")
    screenshots(page, "ae-day-2-board-pending")
    column(page, "0-Pending Acceptance").get_by_role("link", name=DEAL).click()
    expect(page).to_have_url(f"{live_server.url}/opportunities/{deal.pk}/")

    # Accepting without the SAO criteria is refused in words, and nothing moves.
    stage = card(page, "Change stage")
    move_to(stage).select_option(label="1-Discovery")
    stage.get_by_role("button", name="Move").click()
    expect(page.locator(".msg.error")).to_contain_text(
        "An SAO needs authority confirmed (right person, right profile) and a business problem before it moves "
        "to 1-Discovery.")
    expect(page.get_by_role("heading", level=1)).to_contain_text("0-Pending Acceptance")
    screenshots(page, "ae-day-3-acceptance-refused")
    deal.refresh_from_db()
    assert (deal.stage, deal.sales_accepted_date) == (Stage.PENDING_ACCEPTANCE, None)

    qualification = card(page, "Qualification")
    qualification.get_by_label("Authority confirmed").check()
    qualification.get_by_label("Business problem").fill("Releases take three weeks.")
    qualification.get_by_role("button", name="Save").click()
    expect(page.get_by_role("status")).to_contain_text("Saved.")

    move_to(stage).select_option(label="1-Discovery")
    stage.get_by_role("button", name="Move").click()
    expect(page.get_by_role("status")).to_contain_text("Stage is now 1-Discovery.")
    expect(page.get_by_role("heading", level=1)).to_contain_text("1-Discovery")
    expect(page.get_by_role("heading", level=1)).to_contain_text("SAO")
    screenshots(page, "ae-day-4-accepted")

    page.goto("/opportunities/board/")
    expect(column(page, "1-Discovery")).to_contain_text(DEAL)
    expect(column(page, "0-Pending Acceptance")).not_to_contain_text(DEAL)
    screenshots(page, "ae-day-5-board-discovery")
    # On a phone the board scrolls inside itself and the deal's forms fit their cards: the page never pans.
    page.set_viewport_size({"width": 390, "height": 900})
    for url in ("/opportunities/board/", f"/opportunities/{deal.pk}/"):
        page.goto(url)
        assert page.evaluate("document.documentElement.scrollWidth") <= 390, url

    deal = Opportunity.objects.get(pk=deal.pk)
    assert (deal.stage, deal.sales_accepted_date) == (Stage.DISCOVERY, timezone.localdate())
    assert (deal.authority_confirmed, deal.business_problem) == (True, "Releases take three weeks.")
