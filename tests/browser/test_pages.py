"""What a person does in the pages, in a real Chromium: log in, find leads, change a status, log out."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import Page, expect

from leads.models import RecycleReason, Status, StatusChange
from tests.factories import ActivityFactory, LeadFactory

from .conftest import login

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.usefixtures("seeded")]


def lead_rows(page: Page):
    return page.locator("table tbody tr")


def test_login_with_the_right_password_lands_on_today_with_the_users_name(page, live_server, sdr):
    sdr.first_name, sdr.last_name = "Sam", "Dialer"
    sdr.save()

    login(page, live_server, sdr)

    expect(page.get_by_role("heading", name="Today", exact=True)).to_be_visible()
    expect(page.locator("header")).to_contain_text("Sam Dialer")
    expect(page.get_by_role("button", name="Log out")).to_be_visible()


def test_login_with_a_wrong_password_shows_the_error_and_stays_on_login(page, live_server, sdr):
    page.goto(f"{live_server.url}/login/")
    page.get_by_label("Username").fill(sdr.username)
    page.get_by_label("Password").fill("not-the-password")
    page.get_by_role("button", name="Log in").click()

    expect(page.get_by_role("alert")).to_contain_text("Wrong username or password")
    expect(page).to_have_url(f"{live_server.url}/login/")
    expect(page.get_by_role("button", name="Log out")).to_have_count(0)


def test_an_sdr_sees_their_own_lead_and_not_another_teams(page, live_server, sdr, other_sdr):
    mine = LeadFactory(
        owner=sdr,
        first_name="Ada",
        last_name="Mine",
        company="Globex",
        status=Status.MQL,
        score=87,
        high_priority=True,
        title="VP Engineering",
        phone="+1 555 0100",
    )
    LeadFactory(owner=sdr, first_name="Ben", last_name="Raw", company="Initech", score=12)
    LeadFactory(owner=other_sdr, first_name="Olga", last_name="Elsewhere", company="Umbrella")
    ActivityFactory(lead=mine)

    login(page, live_server, sdr)
    page.goto("/leads/")

    expect(page.get_by_role("link", name="Ada Mine")).to_be_visible()
    expect(page.get_by_role("link", name="Ben Raw")).to_be_visible()
    expect(page.get_by_text("Olga Elsewhere")).to_have_count(0)
    expect(page.get_by_text("Umbrella")).to_have_count(0)
    page.screenshot(path="/tmp/sdrcrm-leads.png", full_page=True)

    page.get_by_role("link", name="Ada Mine").click()
    expect(page).to_have_url(f"{live_server.url}/leads/{mine.pk}/")
    expect(page.get_by_role("heading", name="Ada Mine")).to_be_visible()
    page.screenshot(path="/tmp/sdrcrm-lead.png", full_page=True)

    # Typing the other team's lead's address does not reveal it either.
    other = LeadFactory(owner=other_sdr, last_name="Hidden")
    response = page.goto(f"{live_server.url}/leads/{other.pk}/")
    assert response.status == 404


def test_the_my_mqls_tab_shows_only_the_sdrs_mql_leads(page, live_server, sdr, teammate):
    LeadFactory(owner=sdr, last_name="Mqlmine", status=Status.MQL)
    LeadFactory(owner=sdr, last_name="Rawmine", status=Status.RAW)
    LeadFactory(owner=teammate, last_name="Mqlteammate", status=Status.MQL)
    login(page, live_server, sdr)
    page.goto("/leads/")
    # The default tab shows all three: the team's leads are readable by an SDR.
    expect(lead_rows(page)).to_have_count(3)

    page.get_by_role("navigation", name="Lead views").get_by_role("link", name="My MQLs (S1)").click()

    expect(page).to_have_url(re.compile(r"/leads/\?view=my_mqls$"))
    expect(page.get_by_role("link", name="My MQLs (S1)")).to_have_class(re.compile(r"\bon\b"))
    expect(lead_rows(page)).to_have_count(1)
    expect(lead_rows(page)).to_contain_text("Mqlmine")


def test_searching_by_company_name_narrows_the_list(page, live_server, sdr):
    LeadFactory(owner=sdr, last_name="Alpha", company="Globex Corporation")
    LeadFactory(owner=sdr, last_name="Beta", company="Initech")
    login(page, live_server, sdr)
    page.goto("/leads/")
    expect(lead_rows(page)).to_have_count(2)

    page.get_by_label("Search", exact=True).fill("glob")
    page.get_by_role("button", name="Apply").click()

    expect(page).to_have_url(re.compile(r"[?&]q=glob(&|$)"))
    expect(lead_rows(page)).to_have_count(1)
    expect(lead_rows(page)).to_contain_text("Globex Corporation")
    expect(page.get_by_label("Search", exact=True)).to_have_value("glob")


def open_change_status_form(page: Page, live_server, lead):
    page.goto(f"{live_server.url}/leads/{lead.pk}/")
    return page.locator("section.card", has=page.get_by_role("heading", name="Change status"))


def test_recycling_a_lead_with_a_reason_shows_the_new_status_and_a_history_row(page, live_server, sdr):
    lead = LeadFactory(owner=sdr, last_name="Recycled", status=Status.MQL)
    login(page, live_server, sdr)
    card = open_change_status_form(page, live_server, lead)

    card.locator("select[name=status]").select_option(label="Recycle")
    card.locator("select[name=reason]").select_option(label="Not ready")
    card.get_by_role("button", name="Change").click()

    expect(page.get_by_role("status")).to_contain_text("Status is now Recycle.")
    expect(page.get_by_role("heading", level=1)).to_contain_text("Recycle")
    row = page.locator("#timeline tbody tr.tl-status")
    expect(row).to_have_count(1)
    expect(row).to_contain_text("MQL → Recycle")
    expect(row).to_contain_text("Not ready")
    expect(row).to_contain_text(sdr.get_full_name())
    lead.refresh_from_db()
    assert (lead.status, lead.status_reason) == (Status.RECYCLE, RecycleReason.NOT_READY)


def test_recycling_without_a_reason_shows_the_error_and_keeps_the_status(page, live_server, sdr):
    lead = LeadFactory(owner=sdr, last_name="Kept", status=Status.MQL)
    login(page, live_server, sdr)
    card = open_change_status_form(page, live_server, lead)

    card.locator("select[name=status]").select_option(label="Recycle")
    card.get_by_role("button", name="Change").click()

    expect(page.locator(".msg.error")).to_contain_text("Moving to Recycle needs a reason")
    expect(page.get_by_role("heading", level=1)).to_contain_text("MQL")
    expect(page.locator("#timeline tr.tl-status")).to_have_count(0)
    lead.refresh_from_db()
    assert lead.status == Status.MQL
    assert not StatusChange.objects.filter(lead=lead).exists()


def test_logging_out_returns_to_login_and_the_lead_list_then_asks_to_log_in(page, live_server, sdr):
    login(page, live_server, sdr)

    page.get_by_role("button", name="Log out").click()

    expect(page).to_have_url(f"{live_server.url}/login/")
    expect(page.get_by_role("heading", name="Log in")).to_be_visible()
    page.goto(f"{live_server.url}/leads/")
    expect(page).to_have_url(f"{live_server.url}/login/?next=/leads/")
