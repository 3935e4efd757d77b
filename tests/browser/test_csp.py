"""The Content-Security-Policy in a real Chromium: every main page, the admin and the API docs
open without a single violation (no inline style or script is refused), and the site's own
stylesheet and script still apply under the policy."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from django.utils import timezone
from playwright.sync_api import Locator, Page, expect
from pytest_django.live_server_helper import LiveServer

from leads.models import Status
from sdrcrm import notifications
from sdrcrm.models import JobRun, Notification, Role
from tests.factories import (
    AccountFactory,
    ActivityFactory,
    ContactFactory,
    EnrollmentFactory,
    LeadFactory,
    OpportunityFactory,
    UserFactory,
)

from .conftest import login

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.usefixtures("seeded")]

# Each document the page opens records its violations before any of its own scripts run.
RECORD_VIOLATIONS = """
window.__cspViolations = [];
document.addEventListener("securitypolicyviolation", (event) => {
  window.__cspViolations.push(`${event.effectiveDirective} refused ${event.blockedURI || "inline"}`
                              + ` at ${event.sourceFile}:${event.lineNumber} ${event.sample}`);
});
"""
HEADER_BACKGROUND = "rgb(36, 21, 63)"  # app.css: header { background:#24153f }


# Chromium's console reports of refusals ("Refused to apply inline style because it violates
# the following Content Security Policy directive …"), per browser page.
console_reports: dict[Page, list[str]] = {}


@pytest.fixture
def csp_page(page: Page) -> Iterator[Page]:
    """The browser page, recording CSP violations two ways: the DOM event (per document, in
    window.__cspViolations) and Chromium's console report (in console_reports)."""
    reports = console_reports[page] = []
    page.add_init_script(RECORD_VIOLATIONS)
    page.on("console", lambda message: reports.append(message.text)
            if "Content Security Policy" in message.text else None)
    yield page
    del console_reports[page]


def assert_no_violations(page: Page) -> None:
    page.wait_for_load_state("networkidle")
    assert page.evaluate("window.__cspViolations") == [], page.url
    assert console_reports[page] == [], page.url


def visit(page: Page, url: str) -> None:
    """Open `url` (under the policy: the header is there) and find no violation."""
    response = page.goto(url)
    assert response is not None and response.ok, (url, response and response.status)
    assert "style-src 'self'" in response.headers.get("content-security-policy", ""), url
    assert_no_violations(page)


def css(locator: Locator, prop: str) -> str:
    return locator.evaluate("(element, prop) => getComputedStyle(element).getPropertyValue(prop)", prop)


def assert_app_css(page: Page) -> None:
    """static/css/app.css applied: the header's purple and the body's font size are its own."""
    assert css(page.locator("header"), "background-color") == HEADER_BACKGROUND, page.url
    assert css(page.locator("body"), "font-size") == "14px", page.url


def test_the_login_page_keeps_to_the_policy_and_a_violation_would_be_seen(csp_page, live_server):
    visit(csp_page, "/login/")
    assert_app_css(csp_page)
    form = csp_page.locator("form.login-form")
    assert css(form, "display") == "grid" and css(form, "max-width") == "320px"

    # The listener is no formality: an inline style set now is refused, and reported.
    csp_page.evaluate("document.body.setAttribute('style', 'color: red')")
    csp_page.wait_for_function("window.__cspViolations.length > 0")
    assert "style-src-attr" in csp_page.evaluate("window.__cspViolations")[0]
    assert css(csp_page.locator("body"), "color") != "rgb(255, 0, 0)"


def test_an_sdrs_pages_keep_to_the_policy(csp_page, live_server: LiveServer, sdr, ae):
    account = AccountFactory(name="Globex", domain="globex.com")
    lead = LeadFactory(owner=sdr, first_name="Quinn", last_name="Buyer", email="quinn@globex.com",
                       company="Globex", account=account, status=Status.QUALIFYING)
    ActivityFactory(lead=lead)
    EnrollmentFactory(lead=lead, sequence__name="Trial follow-up")
    contact = ContactFactory(owner=sdr, first_name="Cora", last_name="Contact", account=account,
                             status=Status.MQL)
    opportunity = OpportunityFactory(name="Globex platform", account=account, owner=ae, sdr=sdr)
    notifications.notify([sdr.pk], Notification.Kind.ROUTING, "Quinn Buyer was routed to you", lead=lead)
    login(csp_page, live_server, sdr)

    visit(csp_page, "/leads/")
    assert_app_css(csp_page)
    assert css(csp_page.locator(".scroll-x"), "overflow-x") == "auto"

    visit(csp_page, f"/leads/{lead.pk}/")
    assert_app_css(csp_page)
    expect(csp_page.get_by_role("heading", name="Quinn Buyer")).to_be_visible()
    assert css(csp_page.locator(".grid.mt-l").first, "margin-top") == "16px"
    assert css(csp_page.locator("a.heading-link").first, "font-size") == "13px"
    assert css(csp_page.locator("#convert fieldset").first, "border-top-style") == "none"
    step_form = csp_page.locator("form.filters.flush").first
    assert css(step_form, "margin-bottom") == "0px"

    for url in ("/contacts/", f"/contacts/{contact.pk}/", "/accounts/", f"/accounts/{account.pk}/",
                "/opportunities/", f"/opportunities/{opportunity.pk}/", "/leads/sequences/", "/notifications/"):
        visit(csp_page, url)
        assert_app_css(csp_page)
    expect(csp_page.locator("main")).to_contain_text("Quinn Buyer was routed to you")


def test_a_managers_team_queues_keep_to_the_policy_and_the_team_picker_still_submits(
        csp_page, live_server: LiveServer, sdr, manager):
    login(csp_page, live_server, manager)
    visit(csp_page, "/leads/queues/")
    assert_app_css(csp_page)

    # The picker submits on change from static/js/app.js, not an inline onchange="" (refused).
    csp_page.get_by_label("Team").select_option(label=sdr.team.name)
    expect(csp_page.get_by_role("heading", name=f"Team queues: {sdr.team.name}")).to_be_visible()
    assert f"team={sdr.team.pk}" in csp_page.url
    assert_no_violations(csp_page)


def test_ops_pages_the_admin_and_the_api_docs_keep_to_the_policy(csp_page, live_server: LiveServer):
    ops = UserFactory(role=Role.OPS, is_staff=True, is_superuser=True)
    JobRun.objects.create(name="sla_breaches", slot=timezone.now(), state=JobRun.State.FAILED,
                          finished_at=timezone.now(), errors="Traceback (most recent call last): boom")
    lead = LeadFactory(last_name="Adminable")
    login(csp_page, live_server, ops)

    visit(csp_page, "/jobs/")
    assert_app_css(csp_page)
    assert css(csp_page.locator("pre.wrap"), "white-space") == "pre-wrap"

    # Django's admin: its own stylesheets and scripts, all files of this site.
    visit(csp_page, "/admin/")
    expect(csp_page.locator("#site-name")).to_be_visible()
    assert css(csp_page.locator("#header"), "display") == "flex"  # admin/css/base.css applied
    visit(csp_page, f"/admin/leads/lead/{lead.pk}/change/")
    visit(csp_page, "/admin/leads/lead/")

    # Swagger UI: the split view's page loads its init script as a file, the script renders
    # the docs from the schema (connect-src 'self'), and an operation opens.
    visit(csp_page, "/api/docs/")
    expect(csp_page.locator(".swagger-ui .info .title")).to_contain_text("SDR CRM API")
    assert css(csp_page.locator("body"), "background-color") == "rgb(250, 250, 250)"  # swagger-ui-page.css
    csp_page.locator(".opblock-summary").first.click()
    expect(csp_page.get_by_role("button", name="Try it out").first).to_be_visible()
    assert_no_violations(csp_page)


def test_the_sao_dashboards_charts_draw_under_the_policy(csp_page, live_server: LiveServer, sdr, manager):
    from datetime import date

    from opportunities.models import Stage

    OpportunityFactory(sdr=sdr, stage=Stage.DISCOVERY, sales_accepted_date=date.today())
    login(csp_page, live_server, manager)
    visit(csp_page, "/dashboards/sao/")

    # Chart.js drew both charts (a chart on each canvas), and nothing it did was refused.
    for canvas in ("#sao-attainment-chart", "#sao-activity-chart"):
        assert csp_page.evaluate(f"Chart.getChart(document.querySelector('{canvas}')) !== undefined"), canvas
        assert csp_page.locator(canvas).bounding_box()["height"] > 200
    labels = csp_page.evaluate("Chart.getChart(document.querySelector('#sao-attainment-chart')).data.labels")
    assert labels == [sdr.get_full_name() or sdr.username]
    assert_no_violations(csp_page)
