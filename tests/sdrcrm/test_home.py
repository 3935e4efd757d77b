"""Each role lands on its own page."""

from __future__ import annotations

import pytest

from sdrcrm.models import Role
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize(("role", "page"), [
    (Role.SDR, "/leads/today/"),
    (Role.BDR, "/leads/today/"),
    (Role.SAL, "/opportunities/mine/"),
    (Role.AE, "/opportunities/mine/"),
    (Role.SDR_MANAGER, "/leads/queues/"),
    (Role.OPS, "/jobs/"),
])
def test_each_role_starts_on_its_own_page(client, role, page):
    client.force_login(UserFactory(role=role))
    response = client.get("/")
    assert (response.status_code, response["Location"]) == (302, page)
    assert client.get(page).status_code == 200


def test_a_visitor_is_sent_to_log_in(client):
    response = client.get("/", follow=True)
    assert response.redirect_chain[-1][0].startswith("/login/")


def test_an_aes_home_lists_their_open_deals_pending_first_and_their_accepted_leads(
        client, django_assert_max_num_queries):
    from leads.models import Status
    from opportunities.models import Stage
    from tests.factories import LeadFactory, OpportunityFactory

    ae, other_ae = UserFactory(role=Role.AE), UserFactory(role=Role.AE)
    OpportunityFactory(owner=ae, name="Discovery deal", stage=Stage.DISCOVERY)
    OpportunityFactory(owner=ae, name="Waiting deal", stage=Stage.PENDING_ACCEPTANCE)
    OpportunityFactory(owner=ae, name="Won deal", stage=Stage.CLOSED_WON)
    OpportunityFactory(owner=other_ae, name="Their deal")
    LeadFactory(owner=ae, status=Status.ACCEPTED, first_name="Accepted", last_name="Lead")
    LeadFactory(owner=ae, status=Status.QUALIFYING, first_name="Qualifying", last_name="Lead")
    LeadFactory(owner=ae, status=Status.MQL, first_name="Fresh", last_name="Mql")
    LeadFactory(owner=other_ae, status=Status.ACCEPTED, first_name="Their", last_name="Lead")
    client.force_login(ae)

    # Session read and write, user, two lists and their counts, the unread badge: none per row.
    with django_assert_max_num_queries(10):
        page = client.get("/opportunities/mine/").content.decode()

    assert "My open opportunities (2)" in page and "My accepted leads (2)" in page
    assert page.index("Waiting deal") < page.index("Discovery deal")
    assert "Won deal" not in page and "Their deal" not in page
    assert "Accepted Lead" in page and "Qualifying Lead" in page
    assert "Fresh Mql" not in page and "Their Lead" not in page
    assert 'aria-current="page">My work</a>' in page
