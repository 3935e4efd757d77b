"""`POST /api/v1/leads/{id}/convert/` (docs/rules.md §4, §10): the answer's ids, record-level
access, and bad bodies answered 400 with a message naming the field, never a 500."""

from __future__ import annotations

import pytest

from leads.models import Account, AccountType, Contact, Lead, Status
from opportunities.models import Opportunity, Stage
from sdrcrm.models import Role
from tests.conftest import assert_refused, send
from tests.factories import AccountFactory, LeadFactory, UserFactory

pytestmark = pytest.mark.django_db


def url(lead: Lead) -> str:
    return f"/api/v1/leads/{lead.pk}/convert/"


def post(client, lead: Lead, body) -> object:
    return send(client, "post", url(lead), body)


def assert_not_converted(lead: Lead) -> None:
    lead = Lead.objects.get(pk=lead.pk)
    assert lead.converted_to_id is None and lead.status == Status.QUALIFYING
    assert not Contact.objects.exists() and not Opportunity.objects.exists()


def test_converting_answers_the_ids_of_what_it_made(api, sdr, qualifying, ae):
    response = post(api.as_user(sdr), qualifying, {
        "new_account": {"name": "Initech", "domain": "initech.com", "industry": "Technology",
                        "employee_count": 120, "country": "us", "type": "prospect"},
        "opportunity": {"owner": ae.pk, "iacv": "18000.50", "authority_confirmed": True,
                        "business_problem": "Releases take weeks", "initiative": "top_2_priority",
                        "potential_seats": 200, "deployment_preference": "saas"}})

    assert response.status_code == 200, response.content
    body = response.json()
    account = Account.objects.get(name="Initech")
    contact = Contact.objects.get(email="pat@initech.com")
    opportunity = Opportunity.objects.get()
    assert body == {"lead": qualifying.pk, "contact": contact.pk, "account": account.pk, "opportunity": opportunity.pk,
                    "reseller_contact": None}
    assert (account.country, account.industry, account.segment) == ("US", "Technology", "mid_market")
    assert (opportunity.stage, opportunity.sdr, opportunity.potential_seats, str(opportunity.iacv)) == (
        Stage.PENDING_ACCEPTANCE, sdr, 200, "18000.50")
    assert Lead.objects.get(pk=qualifying.pk).converted_to == contact


def test_a_reseller_deal_answers_the_reseller_contact(api, sdr, qualifying, ae):
    reseller_lead = LeadFactory(owner=sdr, status=Status.MQL)
    partner = AccountFactory(name="Partner Inc")
    response = post(api.as_user(sdr), qualifying, {
        "account": AccountFactory(name="Initech").pk, "opportunity": {"owner": ae.pk},
        "reseller": {"lead": reseller_lead.pk, "account": partner.pk}})

    assert response.status_code == 200, response.content
    reseller_contact = Contact.objects.get(pk=response.json()["reseller_contact"])
    assert (reseller_contact.account, reseller_contact.role) == (partner, Contact.Role.RESELLER)
    assert Opportunity.objects.get().name == "Initech via Partner Inc"


def test_the_contact_owner_may_be_the_customer_accounts_owner(api, sdr, ae):
    customer = AccountFactory(type=AccountType.CUSTOMER, owner=ae)
    lead = LeadFactory(owner=sdr, status=Status.ACCEPTED, account=customer)
    response = post(api.as_user(sdr), lead, {"contact_owner": ae.pk})
    assert response.status_code == 200, response.content
    assert Contact.objects.get().owner == ae


def test_the_contact_goes_to_the_contact_owner_given(api, sdr, ae):
    # At a prospect the contact would stay with the converting SDR; naming the account's
    # owner must hand it over (the customer case above defaults to that owner anyway).
    account = AccountFactory(type=AccountType.PROSPECT, owner=ae)
    lead = LeadFactory(owner=sdr, status=Status.QUALIFYING, account=account)
    response = post(api.as_user(sdr), lead, {"contact_owner": ae.pk})
    assert response.status_code == 200, response.content
    assert Contact.objects.get().owner == ae


def test_an_sdr_may_not_give_the_contact_to_someone_else(api, sdr, teammate, qualifying):
    response = post(api.as_user(sdr), qualifying, {"new_account": {"name": "Initech"}, "contact_owner": teammate.pk})
    assert "may not assign records" in assert_refused(response, "contact_owner")["detail"]
    assert_not_converted(qualifying)


# --- Access ----------------------------------------------------------------------------------


def test_another_sdrs_lead_is_not_found(api, other_sdr, qualifying):
    response = post(api.as_user(other_sdr), qualifying, {"new_account": {"name": "Initech"}})
    assert response.status_code == 404
    assert_not_converted(qualifying)


def test_a_teammate_who_may_only_read_is_forbidden(api, teammate, qualifying):
    response = post(api.as_user(teammate), qualifying, {"new_account": {"name": "Initech"}})
    assert response.status_code == 403
    assert_not_converted(qualifying)


def test_without_credentials_the_answer_is_401(api, qualifying):
    assert post(api, qualifying, {"new_account": {"name": "Initech"}}).status_code == 401


def test_a_seller_cannot_convert_into_an_account_they_do_not_see(api, ae):
    lead = LeadFactory(owner=ae, status=Status.QUALIFYING)
    someone_elses = AccountFactory(owner=UserFactory(role=Role.AE))
    response = post(api.as_user(ae), lead, {"account": someone_elses.pk})
    detail = assert_refused(response, "account")["detail"]
    assert detail == f"account: No account with id {someone_elses.pk} that you may use."
    assert not Contact.objects.exists()


def test_a_reseller_lead_the_caller_may_only_read_is_refused(api, sdr, teammate, qualifying, ae):
    theirs = LeadFactory(owner=teammate, status=Status.MQL)  # same team: readable, not changeable
    response = post(api.as_user(sdr), qualifying, {"new_account": {"name": "Initech"}, "opportunity": {"owner": ae.pk},
                                             "reseller": {"lead": theirs.pk}})
    assert_refused(response, "reseller")
    assert Lead.objects.get(pk=theirs.pk).converted_to_id is None
    assert_not_converted(qualifying)


# --- Rules the service refuses ----------------------------------------------------------------


def test_a_lead_that_is_not_qualifying_is_refused_naming_its_status(api, sdr):
    lead = LeadFactory(owner=sdr, status=Status.ACCEPTED)
    response = post(api.as_user(sdr), lead, {"new_account": {"name": "Initech"}})
    assert "This lead is Accepted" in assert_refused(response, "status")["detail"]
    assert not Account.objects.exists()


def test_converting_twice_is_refused(api, sdr, qualifying):
    client = api.as_user(sdr)
    assert post(client, qualifying, {"new_account": {"name": "Initech"}}).status_code == 200
    response = post(client, qualifying, {"new_account": {"name": "Initech 2"}})
    assert "already converted" in assert_refused(response, "lead")["detail"]
    assert Contact.objects.count() == 1 and Account.objects.count() == 1


def test_a_refusal_from_the_opportunity_rules_leaves_nothing_behind(api, sdr, qualifying, ae):
    response = post(api.as_user(sdr), qualifying, {"new_account": {"name": "Initech"},
                                             "opportunity": {"owner": ae.pk, "sdr": sdr.pk,
                                                             "professional_services": True}})
    assert "never credited" in assert_refused(response, "sdr")["detail"]
    assert_not_converted(qualifying)
    assert not Account.objects.exists()


# --- Bad bodies ------------------------------------------------------------------------------

BAD_BODIES = [
    pytest.param({"account": 10**20}, "account", id="huge account id"),
    pytest.param({"account": 987654}, "account", id="unknown account id"),
    pytest.param({"account": "abc"}, "account", id="account id as text"),
    pytest.param({"account": True}, "account", id="account id as a boolean"),
    pytest.param({"account": [1]}, "account", id="account id as a list"),
    pytest.param({"account": -3}, "account", id="negative account id"),
    pytest.param({"new_account": "Initech"}, "new_account", id="new account as text"),
    pytest.param({"new_account": {}}, "new_account", id="new account without a name"),
    pytest.param({"new_account": {"name": "X" * 256}}, "new_account", id="new account name too long"),
    pytest.param({"new_account": {"name": "X", "country": "ZZ"}}, "new_account", id="unknown country"),
    pytest.param({"new_account": {"name": "X", "type": "enemy"}}, "new_account", id="unknown account type"),
    pytest.param({"new_account": {"name": "X", "employee_count": -1}}, "new_account", id="negative employees"),
    pytest.param({"new_account": {"name": "X\u0000"}}, "new_account", id="NUL in a name"),
    pytest.param({"contact_owner": 10**20, "new_account": {"name": "X"}}, "contact_owner", id="huge user id"),
    pytest.param({"contact_owner": "me", "new_account": {"name": "X"}}, "contact_owner", id="user id as text"),
    pytest.param({"new_account": {"name": "X"}, "opportunity": {}}, "opportunity", id="opportunity without owner"),
    pytest.param({"new_account": {"name": "X"}, "opportunity": "big deal"}, "opportunity", id="opportunity as text"),
    pytest.param({"new_account": {"name": "X"}, "opportunity": {"owner": 10**20}}, "opportunity",
                 id="huge owner id"),
    pytest.param({"new_account": {"name": "X"}, "opportunity": {"owner": "AE", "iacv": "lots"}}, "opportunity",
                 id="owner and iacv as words"),
    pytest.param({"new_account": {"name": "X"}, "reseller": {}}, "reseller", id="reseller without a lead"),
    pytest.param({"new_account": {"name": "X"}, "reseller": {"lead": 10**20}}, "reseller", id="huge reseller lead"),
    pytest.param({"new_account": {"name": "X"}, "reseller": 5}, "reseller", id="reseller as a number"),
]


@pytest.mark.parametrize(("body", "field"), BAD_BODIES)
def test_bad_bodies_are_refused_naming_the_field(api, sdr, qualifying, body, field):
    response = post(api.as_user(sdr), qualifying, body)
    detail = assert_refused(response, field)["detail"]
    assert detail.startswith(f"{field}: ")
    assert_not_converted(qualifying)
    assert not Account.objects.exists()


def test_an_opportunity_owner_who_is_not_a_seller_is_refused(api, sdr, teammate, qualifying):
    response = post(api.as_user(sdr), qualifying, {"new_account": {"name": "X"}, "opportunity": {"owner": teammate.pk}})
    detail = assert_refused(response, "opportunity")["detail"]
    assert "SAL or AE" in detail
    assert_not_converted(qualifying)


@pytest.mark.parametrize("body", ["[]", '"convert"', "{", "null"])
def test_a_body_that_is_not_an_object_is_refused(api, sdr, qualifying, body):
    response = post(api.as_user(sdr), qualifying, body)
    assert response.status_code == 400
    assert response.json()["detail"]
    assert_not_converted(qualifying)


def test_an_account_and_a_new_account_together_are_refused(api, sdr, qualifying):
    response = post(api.as_user(sdr), qualifying, {"account": AccountFactory().pk, "new_account": {"name": "X"}})
    assert "not both" in assert_refused(response, "new_account")["detail"]
    assert_not_converted(qualifying)


def test_a_reseller_deal_without_an_opportunity_is_refused(api, sdr, qualifying):
    reseller_lead = LeadFactory(owner=sdr, status=Status.MQL)
    response = post(api.as_user(sdr), qualifying,
                    {"new_account": {"name": "X"}, "reseller": {"lead": reseller_lead.pk}})
    assert "opportunity" in assert_refused(response, "opportunity")["detail"]
    assert_not_converted(qualifying)
