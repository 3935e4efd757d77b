"""axe-core (axe-playwright-python) on the main pages, as each role that uses them: no
serious or critical violation. What axe reports is printed when it fails."""

from __future__ import annotations

import pytest
from axe_playwright_python.sync_playwright import Axe
from django.utils import timezone
from playwright.sync_api import Page

from leads.models import Status
from sdrcrm import notifications
from sdrcrm.models import Notification, Role
from tests.factories import AccountFactory, ContactFactory, LeadFactory, OpportunityFactory, UserFactory

from .conftest import login

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.usefixtures("seeded")]

AXE = Axe()
BAD = {"serious", "critical"}


def violations(page: Page) -> list[str]:
    results = AXE.run(page)
    return [f"{v['id']} ({v['impact']}): {v['help']} — {[n['target'] for n in v['nodes']][:5]}"
            for v in results.response["violations"] if v.get("impact") in BAD]


def check(page: Page, paths: list[str]) -> dict[str, list[str]]:
    found = {}
    for path in paths:
        page.goto(path)
        if problems := violations(page):
            found[path] = problems
    return found


def test_the_sdrs_pages_have_no_serious_accessibility_violation(page, live_server, sdr):
    lead = LeadFactory(owner=sdr, status=Status.MQL)
    contact = ContactFactory(owner=sdr, account=AccountFactory(owner=sdr))
    # An unread notification, so the header shows its badge.
    notifications.notify([sdr.pk], Notification.Kind.SLA_BREACH, "SLA breached", lead=lead)
    login(page, live_server, sdr)

    found = check(page, ["/leads/today/", "/leads/", f"/leads/{lead.pk}/", "/contacts/", f"/contacts/{contact.pk}/",
                         "/leads/sequences/", "/accounts/", f"/accounts/{contact.account_id}/",
                         "/notifications/", "/opportunities/", "/search/?q=acme", "/leads/imports/"])

    assert found == {}


def test_the_managers_and_ops_pages_have_no_serious_accessibility_violation(page, live_server, manager):
    sdr = UserFactory(role=Role.SDR, team=manager.team)
    OpportunityFactory(sdr=sdr)
    # A lead of this month's funnel, so the dashboard links its counts to their leads.
    LeadFactory(owner=sdr, status=Status.MQL, mql_at=timezone.now(), initial_source="webcast")
    login(page, live_server, manager)
    assert check(page, ["/leads/queues/", "/jobs/", "/opportunities/", "/contacts/", "/accounts/",
                        "/dashboards/sao/", "/opportunities/iqms/?held=on",
                        "/dashboards/sao/leads/?period=month&source=webcast&stage=mql"]) == {}


def test_the_ops_pages_have_no_serious_accessibility_violation(page, live_server, ops, sdr):
    from leads import bulk_actions
    from routing import rulesets
    from routing.models import RuleSet

    bulk = bulk_actions.start("lead", "status", {"status": "recycle", "reason": "evaluating"},
                              [LeadFactory(owner=sdr, status=Status.MQL).pk], ops)
    active = RuleSet.objects.get(state="active")
    draft = rulesets.create_draft(ops)
    login(page, live_server, ops)
    assert check(page, ["/jobs/", "/routing/rules/", f"/routing/rules/{active.pk}/", f"/routing/rules/{draft.pk}/",
                        "/routing/pools/", "/routing/territories/", "/scoring/rules/",
                        f"/bulk/{bulk.pk}/"]) == {}


def test_the_aes_pages_have_no_serious_accessibility_violation(page, live_server):
    ae = UserFactory(role=Role.AE)
    opportunity = OpportunityFactory(owner=ae)
    login(page, live_server, ae)
    assert check(page, ["/opportunities/mine/", "/opportunities/", f"/opportunities/{opportunity.pk}/",
                        "/opportunities/board/"]) == {}


def test_the_login_page_has_no_serious_accessibility_violation(page, live_server):
    assert check(page, [f"{live_server.url}/login/"]) == {}
