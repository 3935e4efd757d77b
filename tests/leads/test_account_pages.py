"""The account pages (docs/rules.md §9): the list (scope, name search, keyset pages) and an
account with its fields, tier, people and opportunities, in a bounded number of queries."""

from __future__ import annotations

import re
from decimal import Decimal

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from leads.models import AccountType, Status
from opportunities.models import Stage
from sdrcrm.models import Role
from tests.factories import AccountFactory, ContactFactory, LeadFactory, OpportunityFactory, UserFactory

pytestmark = pytest.mark.django_db


def queries_for(client, url: str) -> int:
    with CaptureQueriesContext(connection) as queries:
        assert client.get(url).status_code == 200
    return len(queries)


def names_on(page: str) -> list[str]:
    return re.findall(r'<a href="/accounts/\d+/">([^<]+)</a>', page)


# --- The list --------------------------------------------------------------------------------


def test_the_list_shows_what_the_user_may_see(client, ae):
    mine = AccountFactory(name="Mine Corp", owner=ae)
    AccountFactory(name="Theirs Corp", owner=UserFactory(role=Role.AE))
    client.force_login(ae)

    assert names_on(client.get("/accounts/").content.decode()) == [mine.name]


def test_an_sdr_sees_every_account_in_name_order_with_tier_and_targeted_flag(client, sdr):
    for name in ("Zeta", "alpha"):
        AccountFactory(name=name)
    AccountFactory(name="Mid", tier="A", targeted=True, targeted_by=sdr)
    client.force_login(sdr)
    page = client.get("/accounts/").content.decode()
    assert names_on(page) == ["alpha", "Mid", "Zeta"]
    assert re.search(r"Mid</a></td>.*?<td>A</td>.*?targeted</span>", page, re.S)


def test_search_finds_accounts_by_name_prefix(client, sdr):
    AccountFactory(name="Initech, Inc.")
    AccountFactory(name="Initrode")
    AccountFactory(name="Acme Initiatives")
    client.force_login(sdr)

    assert names_on(client.get("/accounts/?q=Initech Inc").content.decode()) == ["Initech, Inc."]
    assert names_on(client.get("/accounts/?q=init").content.decode()) == ["Initech, Inc.", "Initrode"]
    assert names_on(client.get("/accounts/?q=Co").content.decode()) == []  # a bare suffix is not "everything"


def test_the_list_pages_by_keyset_without_overlap(client, sdr):
    for number in range(60):
        AccountFactory(name=f"Company {number:02d}")
    client.force_login(sdr)

    first = client.get("/accounts/").content.decode()
    cursor = re.search(r'href="\?[^"]*cursor=([\w-]+)" rel="next"', first).group(1)
    second = client.get(f"/accounts/?cursor={cursor}").content.decode()

    assert names_on(first) == [f"Company {n:02d}" for n in range(50)]
    assert names_on(second) == [f"Company {n:02d}" for n in range(50, 60)]
    assert 'rel="next"' not in second


def test_a_bad_cursor_or_sort_goes_back_to_the_first_page_with_a_message(client, sdr):
    client.force_login(sdr)
    for query in ("cursor=not-a-cursor", "ordering=domain"):
        response = client.get(f"/accounts/?{query}", follow=True)
        assert response.redirect_chain == [("/accounts/", 302)]
        assert "out of date" in response.content.decode()


def test_the_list_costs_the_same_few_queries_for_many_rows(client, sdr):
    client.force_login(sdr)
    for number in range(3):
        AccountFactory(name=f"Few {number}", owner=UserFactory(role=Role.AE))
    few = queries_for(client, "/accounts/")
    for number in range(60):
        AccountFactory(name=f"Many {number}", owner=UserFactory(role=Role.AE))
    # Session, user, one page of accounts with their owners, the unread count, the session save.
    assert queries_for(client, "/accounts/") == few <= 7


def test_the_list_asks_for_a_login(client):
    response = client.get("/accounts/")
    assert response.status_code == 302 and "/login/" in response["Location"]


# --- One account -----------------------------------------------------------------------------


def test_the_account_page_shows_its_fields_tier_and_targeted_flag(client, sdr, ae):
    shown = AccountFactory(name="Initech", domain="initech.com", industry="Technology", employee_count=1200,
                    type=AccountType.CUSTOMER, owner=ae, tier="B", targeted=True, targeted_by=sdr,
                    carr=Decimal("125000"))
    client.force_login(sdr)

    page = client.get(f"/accounts/{shown.pk}/").content.decode()

    assert "<h1>Initech <span class=\"badge\">Customer</span> <span class=\"badge hot\">targeted</span></h1>" in page
    assert "<h2>Tier: B</h2>" in page
    assert "initech.com" in page and "Technology" in page and "1200" in page and "Alice Seller" in page
    assert "125,000.00" in page


def test_an_account_without_a_tier_shows_a_dash(client, sdr):
    shown = AccountFactory(name="Plain", tier="")
    client.force_login(sdr)
    page = client.get(f"/accounts/{shown.pk}/").content.decode()
    assert "<h2>Tier: —</h2>" in page and "badge hot" not in page


def test_the_account_page_lists_its_people_with_links(client, sdr, ae):
    shown = AccountFactory(name="Initech", owner=ae)
    lead = LeadFactory(owner=sdr, account=shown, first_name="Lee", last_name="Lead", status=Status.MQL)
    contact = ContactFactory(account=shown, owner=sdr, first_name="Cora", last_name="Contact",
                             email="cora@initech.com")
    client.force_login(sdr)

    page = client.get(f"/accounts/{shown.pk}/").content.decode()

    assert f'<a href="/leads/{lead.pk}/">Lee Lead</a>' in page
    assert f'<a href="/contacts/{contact.pk}/">Cora Contact</a>' in page
    assert 'href="mailto:cora@initech.com"' in page


def test_the_account_page_lists_its_opportunities(client, ae):
    shown = AccountFactory(name="Initech", owner=ae)
    deal = OpportunityFactory(account=shown, owner=ae, name="Initech - New business", iacv=Decimal("24000"),
                              stage=Stage.DISCOVERY)
    resold = OpportunityFactory(account=AccountFactory(name="End User", owner=ae), reseller_account=shown, owner=ae,
                                name="End User via Initech")
    client.force_login(ae)

    page = client.get(f"/accounts/{shown.pk}/").content.decode()

    assert f'<a href="/opportunities/{deal.pk}/">Initech - New business</a>' in page
    assert "1-Discovery" in page and "24,000.00" in page and "Alice Seller" in page
    assert f'<a href="/opportunities/{resold.pk}/">End User via Initech</a>' in page
    assert "(as reseller, for End User)" in page


def test_the_account_page_shows_only_the_people_and_deals_the_user_may_see(client, sdr, other_sdr):
    shown = AccountFactory(name="Initech")
    LeadFactory(owner=other_sdr, account=shown, first_name="Hidden", last_name="Lead")
    ContactFactory(owner=other_sdr, account=shown, first_name="Hidden", last_name="Contact")
    OpportunityFactory(account=shown, name="Hidden deal")
    client.force_login(sdr)

    page = client.get(f"/accounts/{shown.pk}/").content.decode()

    assert "Hidden" not in page
    assert "No leads you can see." in page and "No contacts you can see." in page
    assert "No opportunities you can see." in page


def test_an_account_the_user_may_not_see_is_not_found(client, ae):
    theirs = AccountFactory(name="Theirs", owner=UserFactory(role=Role.AE))
    client.force_login(ae)
    assert client.get(f"/accounts/{theirs.pk}/").status_code == 404
    assert client.get(f"/accounts/{10**20}/").status_code == 404


def test_people_are_capped_at_50_each(client, sdr):
    shown = AccountFactory(name="Big")
    LeadFactory.create_batch(53, owner=sdr, account=shown)
    ContactFactory.create_batch(52, owner=sdr, account=shown)
    client.force_login(sdr)

    page = client.get(f"/accounts/{shown.pk}/").content.decode()

    assert len(re.findall(r'<a href="/leads/\d+/">', page)) == 50
    assert "Showing the newest 50." in page and "Showing the first 50 by last name." in page
    assert page.count('href="mailto:') == 50


def test_the_account_page_costs_the_same_queries_for_many_people(client, sdr, ae):
    shown = AccountFactory(name="Initech", owner=ae)
    # One contact to start with: an empty contact list costs no query for the new-opportunity
    # form's contact select, so "none" would be cheaper than "some".
    ContactFactory(owner=sdr, account=shown)
    client.force_login(sdr)
    few = queries_for(client, f"/accounts/{shown.pk}/")
    for _ in range(29):
        owner = UserFactory(role=Role.SDR, team=sdr.team)
        LeadFactory(owner=owner, account=shown)
        contact = ContactFactory(owner=owner, account=shown)
        LeadFactory(owner=owner, status=Status.QUALIFIED, converted_to=contact)
        OpportunityFactory(account=shown, owner=UserFactory(role=Role.AE), sdr=sdr)

    many = queries_for(client, f"/accounts/{shown.pk}/")

    page = client.get(f"/accounts/{shown.pk}/").content.decode()
    assert page.count('href="/opportunities/') >= 29 and page.count('href="mailto:') == 30
    # The fixed cost of a page, plus the account, its leads, contacts and opportunities, and
    # the new-opportunity form's owners and contacts.
    assert many == few <= 13


# --- Targeting from the account page, and the tier's reasons --------------------------------

def test_the_page_names_the_tier_qualifiers_the_account_meets(client, sdr):
    shown = AccountFactory(name="Kube Co", using_ce=True, tech_stack="Kubernetes, Jenkins")
    client.force_login(sdr)
    page = client.get(f"/accounts/{shown.pk}/").content.decode()
    assert "Qualifiers met: Current CE usage, Early-adopter keywords in the tech stack." in page


def test_an_sdr_flags_an_account_as_targeted_from_its_page(client, sdr):
    target = AccountFactory(name="Target Co")
    client.force_login(sdr)

    response = client.post(f"/accounts/{target.pk}/target/", {"targeted": "on"}, follow=True)

    target.refresh_from_db()
    assert (target.targeted, target.targeted_by) == (True, sdr)
    assert "Targeted." in response.content.decode()


def test_the_page_shows_the_limit_refusal(client, sdr, settings):
    settings.TARGETED_ACCOUNTS_LIMIT = 1
    AccountFactory(name="First", targeted=True, targeted_by=sdr)
    second = AccountFactory(name="Second")
    client.force_login(sdr)

    response = client.post(f"/accounts/{second.pk}/target/", {"targeted": "on"}, follow=True)

    assert "You already target 1 accounts" in response.content.decode()
    assert not type(second).objects.get(pk=second.pk).targeted


def test_a_teammate_cannot_unflag_an_sdrs_target_from_the_page(client, sdr, teammate):
    target = AccountFactory(name="Mine", targeted=True, targeted_by=sdr)
    client.force_login(teammate)

    response = client.post(f"/accounts/{target.pk}/target/", {}, follow=True)

    assert "Only who flagged the account" in response.content.decode()
    assert type(target).objects.get(pk=target.pk).targeted


def test_a_seller_cannot_flag_from_the_page(client, ae):
    owned = AccountFactory(name="Sold", owner=ae)
    client.force_login(ae)
    client.post(f"/accounts/{owned.pk}/target/", {"targeted": "on"})
    assert not type(owned).objects.get(pk=owned.pk).targeted


def test_flagging_needs_a_post(client, sdr):
    target = AccountFactory(name="Get Co")
    client.force_login(sdr)
    assert client.get(f"/accounts/{target.pk}/target/").status_code == 405
