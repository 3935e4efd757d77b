"""On a phone, in a real Chromium: the header folds to the brand, "Menu" (with the unread
count) and the search, and the links, who is logged in and "Log out" open under "Menu"
(on a wide screen there is no "Menu" and every link shows); the lead list is a list of
cards with each phone on the screen."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from leads.models import Status
from sdrcrm.models import Notification
from tests.factories import LeadFactory

from .conftest import ARTIFACTS, login, screenshots

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.usefixtures("seeded")]


def test_the_menu_folds_on_a_phone_and_opens_with_one_tap(page, live_server, sdr):
    Notification.objects.create(user=sdr, kind="routing", message="A lead for you")
    login(page, live_server, sdr)
    menu, leads = page.locator("label.menu-toggle"), page.get_by_role("navigation", name="Main").get_by_role(
        "link", name="Leads")
    expect(menu).to_be_hidden()
    expect(leads).to_be_visible()

    page.set_viewport_size({"width": 390, "height": 844})

    expect(menu).to_be_visible()
    expect(menu).to_contain_text("1")  # the unread count, which the folded link would hide
    expect(leads).to_be_hidden()
    expect(page.get_by_role("button", name="Log out")).to_be_hidden()
    expect(page.get_by_role("searchbox", name="Search all records")).to_be_visible()
    assert page.locator("header").bounding_box()["height"] < 140  # the page's own content starts near the top
    assert page.evaluate("document.documentElement.scrollWidth") <= 390
    screenshots(page, "phone-menu-folded")

    menu.click()

    expect(leads).to_be_visible()
    expect(page.get_by_role("button", name="Log out")).to_be_visible()
    assert page.evaluate("document.documentElement.scrollWidth") <= 390
    page.screenshot(path=str(ARTIFACTS / "phone-menu-open-390.png"))
    leads.click()
    expect(page).to_have_url(f"{live_server.url}/leads/")


def test_on_a_phone_each_lead_is_a_card_with_its_phone_on_the_screen(page, live_server, sdr):
    """The Callable view is worked from the phone: each lead's number is on the screen, a
    tel: link, not in a column panned out of sight."""
    LeadFactory(owner=sdr, status=Status.MQL, first_name="Cleo", last_name="Contact", company="Initech",
                email="cleo.contact@initech-international.example", phone="+1 415 555 0199")
    login(page, live_server, sdr)
    page.set_viewport_size({"width": 390, "height": 844})

    page.goto(f"{live_server.url}/leads/?view=callable")

    phone = page.get_by_role("link", name="+1 415 555 0199")
    expect(phone).to_have_attribute("href", "tel:+14155550199")
    box = phone.bounding_box()
    assert box["x"] >= 0 and box["x"] + box["width"] <= 390
    expect(page.get_by_role("link", name="Cleo Contact")).to_be_visible()
    assert page.evaluate("document.documentElement.scrollWidth") <= 390
    screenshots(page, "phone-lead-cards")
