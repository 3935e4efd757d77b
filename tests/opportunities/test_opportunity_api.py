"""The opportunity API (docs/rules.md §10): create, edit, stage moves and history under the rules of
docs/rules.md §4 and the access of docs/rules.md §8.2 (404 for what you may not see, 403 for what you may only
read); bad input is a 400 with a message, never a 500; lists are keyset pages whose query
count does not grow with the rows."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

import pytest
from django.utils import timezone

from opportunities.models import Opportunity, Stage, StageChange
from sdrcrm.models import Role
from tests.conftest import assert_refused, send
from tests.factories import AccountFactory, ContactFactory, OpportunityFactory, TeamFactory, UserFactory
from tests.opportunities.conftest import sao_ready

pytestmark = pytest.mark.django_db

URL = "/api/v1/opportunities/"
MAX_LIST_QUERIES = 5  # docs/rules.md §11: a list page, whatever its size


def url(opportunity: Opportunity | int, action: str = "") -> str:
    pk = opportunity if isinstance(opportunity, int) else opportunity.pk
    return f"{URL}{pk}/{action + '/' if action else ''}"


@pytest.fixture
def account(ae):
    return AccountFactory(owner=ae)


@pytest.fixture
def pending(ae, sdr, account):
    """A stage-0 opportunity of `ae`, credited to `sdr`, that meets the SAO criteria."""
    return sao_ready(owner=ae, sdr=sdr, account=account)


@pytest.fixture
def accepted(pending):
    Opportunity.objects.filter(pk=pending.pk).update(stage=Stage.DISCOVERY,
                                                      sales_accepted_date=timezone.localdate())
    pending.refresh_from_db()
    return pending


# --- create ---------------------------------------------------------------------------------


def test_an_sdr_creates_an_opportunity_for_an_ae_and_is_credited(api, sdr, ae, account):
    contact = ContactFactory(account=account, owner=sdr)

    response = send(api.as_user(sdr), "post", URL, {"name": "Acme - 500 seats", "account": account.pk,
                                                    "owner": ae.pk, "primary_contact": contact.pk, "iacv": "15000"})

    assert response.status_code == 201, response.content
    body = response.json()
    assert (body["stage"], body["owner"], body["sdr"], body["primary_contact"]) == (
        "pending_acceptance", ae.pk, sdr.pk, contact.pk)
    opportunity = Opportunity.objects.get(pk=body["id"])
    assert opportunity.created_by == sdr and opportunity.iacv == Decimal("15000")
    assert StageChange.objects.get(opportunity=opportunity).new == Stage.PENDING_ACCEPTANCE


def test_an_ae_creating_an_opportunity_owns_it(api, ae, account):
    response = send(api.as_user(ae), "post", URL, {"name": "Acme", "account": account.pk})
    assert response.status_code == 201, response.content
    assert (response.json()["owner"], response.json()["sdr"]) == (ae.pk, None)


def test_an_sdr_without_an_owner_for_a_pending_opportunity_is_asked_for_one(api, sdr, account):
    response = send(api.as_user(sdr), "post", URL, {"name": "Acme", "account": account.pk})
    assert_refused(response, "owner")
    assert not Opportunity.objects.exists()


def test_an_sdrs_own_pre_opportunity_is_theirs_and_credits_no_one(api, sdr, account):
    response = send(api.as_user(sdr), "post", URL, {"name": "Acme", "account": account.pk,
                                                    "stage": "pre_opportunity"})
    assert response.status_code == 201, response.content
    assert (response.json()["owner"], response.json()["sdr"]) == (sdr.pk, None)


def test_creating_with_the_owner_as_sdr_is_refused(api, ae, account):
    response = send(api.as_user(ae), "post", URL, {"name": "Acme", "account": account.pk, "owner": ae.pk,
                                                   "sdr": ae.pk})
    assert_refused(response, "sdr")
    assert not Opportunity.objects.exists()


def test_creating_a_credited_professional_services_opportunity_is_refused(api, sdr, ae, account):
    response = send(api.as_user(ae), "post", URL, {"name": "Acme PS", "account": account.pk, "sdr": sdr.pk,
                                                   "professional_services": True})
    assert_refused(response, "sdr")


def test_an_sdr_creating_a_professional_services_opportunity_is_not_credited(api, sdr, ae, account):
    response = send(api.as_user(sdr), "post", URL, {"name": "Acme PS", "account": account.pk, "owner": ae.pk,
                                                    "professional_services": True})
    assert response.status_code == 201, response.content
    assert response.json()["sdr"] is None


def test_an_integration_may_not_create_opportunities(api, integration, account, ae):
    response = send(api.as_user(integration), "post", URL, {"name": "Acme", "account": account.pk, "owner": ae.pk})
    assert_refused(response, status=403)


def test_an_account_the_user_cannot_see_is_refused(api, ae):
    someone_elses = AccountFactory(owner=UserFactory(role=Role.AE))
    response = send(api.as_user(ae), "post", URL, {"name": "Acme", "account": someone_elses.pk})
    assert_refused(response, "account")
    assert not Opportunity.objects.exists()


BAD_CREATE_BODIES = {
    "unknown stage": ({"stage": "won"}, "stage"),
    "stage that is not a starting stage": ({"stage": "closed_won"}, "stage"),
    "iacv as words": ({"iacv": "lots"}, "iacv"),
    "negative iacv": ({"iacv": "-5"}, "iacv"),
    "iacv too large": ({"iacv": "1e20"}, "iacv"),
    "account 10**20": ({"account": 10**20}, "account"),
    "account as words": ({"account": "acme"}, "account"),
    "no account": ({"account": None}, "account"),
    "no name": ({"name": None}, "name"),
    "blank name": ({"name": "   "}, "name"),
    "owner 10**20": ({"owner": 10**20}, "owner"),
    "unknown owner": ({"owner": 99999999}, "owner"),
    "unknown primary contact": ({"primary_contact": 99999999}, "primary_contact"),
    "potential seats 10**12": ({"potential_seats": 10**12}, "potential_seats"),
    "NUL in the business problem": ({"business_problem": "a\x00b"}, "business_problem"),
    "close date as words": ({"close_date": "soon"}, "close_date"),
    "unknown source": ({"source": "psychic"}, "source"),
}


@pytest.mark.parametrize(("change", "field"), BAD_CREATE_BODIES.values(), ids=BAD_CREATE_BODIES.keys())
def test_creating_with_bad_input_is_a_400_naming_the_field(api, ae, account, change, field):
    body = {"name": "Acme", "account": account.pk, **change}
    body = {key: value for key, value in body.items() if value is not None}

    response = send(api.as_user(ae), "post", URL, body)

    assert_refused(response, field)
    assert not Opportunity.objects.exists()


@pytest.mark.parametrize("body", ["[1, 2]", '"text"', "{not json"])
def test_creating_with_a_body_that_is_not_an_object_is_a_400(api, ae, body):
    assert_refused(send(api.as_user(ae), "post", URL, body))


# --- edit -----------------------------------------------------------------------------------


def test_the_owner_edits_qualification_fields(api, accepted, ae):
    response = send(api.as_user(ae), "patch", url(accepted), {"competition": "Jenkins", "potential_seats": 400})
    assert response.status_code == 200, response.content
    fresh = Opportunity.objects.get(pk=accepted.pk)
    assert (fresh.competition, fresh.potential_seats) == ("Jenkins", 400)


def test_the_sdr_edits_their_pending_opportunity(api, pending, sdr):
    response = send(api.as_user(sdr), "patch", url(pending), {"business_problem": "Audit findings"})
    assert response.status_code == 200, response.content
    assert Opportunity.objects.get(pk=pending.pk).business_problem == "Audit findings"


def test_the_sdr_may_only_read_once_it_is_in_discovery(api, accepted, sdr):
    client = api.as_user(sdr)
    assert client.get(url(accepted)).status_code == 200

    response = send(client, "patch", url(accepted), {"competition": "Jenkins"})

    assert_refused(response, status=403)
    assert Opportunity.objects.get(pk=accepted.pk).competition == ""


def test_ops_edit_an_accepted_opportunity(api, accepted, ops):
    response = send(api.as_user(ops), "patch", url(accepted), {"competition": "Jenkins"})
    assert response.status_code == 200, response.content
    assert Opportunity.objects.get(pk=accepted.pk).competition == "Jenkins"


def test_editing_the_sdr_into_the_owner_is_refused(api, accepted, ae):
    assert_refused(send(api.as_user(ae), "patch", url(accepted), {"sdr": ae.pk}), "sdr")
    assert Opportunity.objects.get(pk=accepted.pk).sdr_id != ae.pk


def test_switching_on_professional_services_with_an_sdr_credited_is_refused(api, accepted, ae):
    response = send(api.as_user(ae), "patch", url(accepted), {"professional_services": True})
    assert_refused(response, "sdr")
    assert "clear the SDR" in response.json()["detail"]

    response = send(api.as_user(ae), "patch", url(accepted), {"professional_services": True, "sdr": None})
    assert response.status_code == 200, response.content
    changed = Opportunity.objects.get(pk=accepted.pk)
    assert (changed.professional_services, changed.sdr_id) == (True, None)


def test_a_patch_cannot_change_the_stage(api, pending, ae):
    response = send(api.as_user(ae), "patch", url(pending), {"stage": "discovery"})
    assert_refused(response, "stage")
    assert Opportunity.objects.get(pk=pending.pk).stage == Stage.PENDING_ACCEPTANCE


def test_a_patch_cannot_write_snapshots(api, accepted, ae):
    response = send(api.as_user(ae), "patch", url(accepted), {"initial_iacv": "1", "sales_qualified": True,
                                                              "sales_accepted_date": "2001-01-01"})
    assert response.status_code == 200, response.content
    fresh = Opportunity.objects.get(pk=accepted.pk)
    assert (fresh.initial_iacv, fresh.sales_qualified, fresh.sales_accepted_date) == (
        None, False, accepted.sales_accepted_date)


def test_a_patch_cannot_move_the_opportunity_to_another_account(api, pending, ae):
    other = AccountFactory(owner=ae)
    assert_refused(send(api.as_user(ae), "patch", url(pending), {"account": other.pk}), "account")
    assert Opportunity.objects.get(pk=pending.pk).account_id == pending.account_id


@pytest.mark.parametrize(("body", "field"), [
    ({"iacv": "lots"}, "iacv"),
    ({"owner": 10**20}, "owner"),
    ({"potential_seats": -1}, "potential_seats"),
    ({"authority_confirmed": "maybe"}, "authority_confirmed"),
])
def test_editing_with_bad_input_is_a_400(api, pending, ae, body, field):
    assert_refused(send(api.as_user(ae), "patch", url(pending), body), field)


def test_put_is_not_offered(api, pending, ae):
    assert send(api.as_user(ae), "put", url(pending), {"name": "x"}).status_code == 405


# --- stage ----------------------------------------------------------------------------------


def test_the_owner_accepts_through_the_stage_endpoint(api, pending, ae):
    response = send(api.as_user(ae), "post", url(pending, "stage"), {"stage": "discovery"})

    assert response.status_code == 200, response.content
    assert response.json()["stage"] == "discovery"
    assert response.json()["sales_accepted_date"] == timezone.localdate().isoformat()
    change = StageChange.objects.get(opportunity=pending)
    assert (change.old, change.new, change.by) == ("pending_acceptance", "discovery", ae)


def test_the_sdr_cannot_accept_through_the_stage_endpoint(api, pending, sdr):
    response = send(api.as_user(sdr), "post", url(pending, "stage"), {"stage": "discovery"})
    assert_refused(response, status=403)
    assert Opportunity.objects.get(pk=pending.pk).stage == Stage.PENDING_ACCEPTANCE


def test_a_refused_move_is_a_400_with_the_rule(api, accepted, ae):
    response = send(api.as_user(ae), "post", url(accepted, "stage"), {"stage": "pending_acceptance"})
    assert_refused(response, "stage")
    assert "never return" in response.json()["detail"]


def test_closing_lost_merged_into_an_opportunity_of_the_same_account(api, accepted, ae):
    survivor = OpportunityFactory(owner=ae, account=accepted.account, stage=Stage.DISCOVERY)

    response = send(api.as_user(ae), "post", url(accepted, "stage"),
                    {"stage": "closed_lost", "closed_lost_reason": "merged", "merged_into": survivor.pk,
                     "closed_lost_details": "Same project as the other one"})

    assert response.status_code == 200, response.content
    assert (response.json()["merged_into"], response.json()["closed_lost_reason"]) == (survivor.pk, "merged")


def test_merging_into_an_opportunity_the_user_cannot_see_is_refused(api, pending, sdr):
    hidden = OpportunityFactory(account=pending.account, stage=Stage.DISCOVERY)  # not the SDR's
    response = send(api.as_user(sdr), "post", url(pending, "stage"),
                    {"stage": "closed_lost", "closed_lost_reason": "merged", "merged_into": hidden.pk})
    assert_refused(response, "merged_into")
    assert "that you can see" in response.json()["detail"]
    assert Opportunity.objects.get(pk=pending.pk).stage == Stage.PENDING_ACCEPTANCE


BAD_STAGE_BODIES = {
    "unknown stage": ({"stage": "won"}, "stage"),
    "no stage": ({}, "stage"),
    "stage as a number": ({"stage": 3}, "stage"),
    "merged_into 10**20": ({"stage": "closed_lost", "closed_lost_reason": "merged", "merged_into": 10**20},
                           "merged_into"),
    "merged_into as words": ({"stage": "closed_lost", "closed_lost_reason": "merged", "merged_into": "other"},
                             "merged_into"),
    "unknown merged_into": ({"stage": "closed_lost", "closed_lost_reason": "merged", "merged_into": 99999999},
                            "merged_into"),
    "unknown reason": ({"stage": "closed_lost", "closed_lost_reason": "bored"}, "closed_lost_reason"),
    "closed lost without a reason": ({"stage": "closed_lost"}, "closed_lost_reason"),
    "details far too long": ({"stage": "closed_lost", "closed_lost_reason": "other",
                              "closed_lost_details": "x" * 20_000}, "closed_lost_details"),
    "large closed won without details": ({"stage": "closed_won"}, "closed_won_details"),
}


@pytest.mark.parametrize(("body", "field"), BAD_STAGE_BODIES.values(), ids=BAD_STAGE_BODIES.keys())
def test_a_bad_stage_body_is_a_400_naming_the_field(api, accepted, ae, body, field):
    response = send(api.as_user(ae), "post", url(accepted, "stage"), body)

    assert_refused(response, field)
    assert Opportunity.objects.get(pk=accepted.pk).stage == Stage.DISCOVERY
    assert not StageChange.objects.filter(opportunity=accepted).exists()


@pytest.mark.parametrize("body", ["[1]", '"closed_lost"', "{oops"])
def test_a_stage_body_that_is_not_an_object_is_a_400(api, accepted, ae, body):
    assert_refused(send(api.as_user(ae), "post", url(accepted, "stage"), body))


def test_history_lists_every_move_with_who_and_when(api, pending, ae):
    client = api.as_user(ae)
    send(client, "post", url(pending, "stage"), {"stage": "discovery"})
    send(client, "post", url(pending, "stage"), {"stage": "scoping"})

    response = client.get(url(pending, "history"))

    assert response.status_code == 200
    assert [(row["old"], row["new"], row["by"]) for row in response.json()] == [
        ("pending_acceptance", "discovery", ae.username), ("discovery", "scoping", ae.username)]
    assert response.json()[1]["new_label"] == "2-Scoping"


# --- access ---------------------------------------------------------------------------------


@pytest.mark.parametrize(("method", "action", "body"), [
    ("get", "", None), ("patch", "", {"competition": "x"}), ("post", "stage", {"stage": "closed_lost",
                                                                               "closed_lost_reason": "timing"}),
    ("get", "history", None),
])
def test_another_sdrs_opportunity_is_not_found_on_every_endpoint(api, pending, other_sdr, method, action, body):
    client = api.as_user(other_sdr)
    response = send(client, method, url(pending, action), body) if body is not None else \
        getattr(client, method)(url(pending, action))

    assert response.status_code == 404
    assert Opportunity.objects.get(pk=pending.pk).stage == Stage.PENDING_ACCEPTANCE


def test_a_teammate_of_the_sdr_does_not_see_the_opportunity(api, pending, teammate):
    assert api.as_user(teammate).get(url(pending)).status_code == 404


def test_an_ae_does_not_see_another_aes_opportunity(api, pending):
    assert api.as_user(UserFactory(role=Role.AE)).get(url(pending)).status_code == 404


@pytest.mark.parametrize("pk", [99999999, 10**20])
def test_unknown_ids_are_not_found(api, ops, pk):
    assert api.as_user(ops).get(url(pk)).status_code == 404


def test_the_sdrs_manager_reads_but_cannot_move_an_accepted_opportunity(api, accepted, sdr, manager):
    client = api.as_user(manager)
    assert client.get(url(accepted)).status_code == 200

    response = send(client, "post", url(accepted, "stage"), {"stage": "scoping"})

    assert_refused(response, status=403)
    assert Opportunity.objects.get(pk=accepted.pk).stage == Stage.DISCOVERY


def test_the_sdr_cannot_move_an_accepted_opportunity(api, accepted, sdr):
    assert_refused(send(api.as_user(sdr), "post", url(accepted, "stage"), {"stage": "scoping"}), status=403)


def test_without_credentials_the_api_answers_401(api, pending):
    assert api.get(url(pending)).status_code == 401


# --- lists ----------------------------------------------------------------------------------


def ids(response) -> list[int]:
    assert response.status_code == 200, response.content
    return [row["id"] for row in response.json()["results"]]


def test_the_list_holds_only_what_the_user_sees_newest_first(api, sdr, ae):
    mine = OpportunityFactory.create_batch(3, sdr=sdr)
    OpportunityFactory.create_batch(2)  # other people's
    assert ids(api.as_user(sdr).get(URL)) == [o.pk for o in reversed(mine)]


def test_the_list_filters_by_several_stages(api, ops):
    pending = OpportunityFactory()
    discovery = OpportunityFactory(stage=Stage.DISCOVERY)
    OpportunityFactory(stage=Stage.SCOPING)
    assert set(ids(api.as_user(ops).get(f"{URL}?stage=pending_acceptance&stage=discovery"))) == {
        pending.pk, discovery.pk}


def test_the_list_filters_by_owner_and_sdr_me_or_id(api, ae, sdr, ops):
    owned = OpportunityFactory(owner=ae)
    credited = OpportunityFactory(sdr=sdr)
    OpportunityFactory()

    assert ids(api.as_user(ae).get(f"{URL}?owner=me")) == [owned.pk]
    assert ids(api.as_user(sdr).get(f"{URL}?sdr=me")) == [credited.pk]
    assert ids(api.as_user(ops).get(f"{URL}?owner={ae.pk}")) == [owned.pk]
    assert ids(api.as_user(ops).get(f"{URL}?sdr={sdr.pk}")) == [credited.pk]


def test_the_list_filters_by_account_sao_and_name_prefix(api, ops):
    account = AccountFactory()
    sao = OpportunityFactory(account=account, name="Globex expansion", stage=Stage.DISCOVERY,
                             sales_accepted_date=timezone.localdate())
    fresh = OpportunityFactory(account=account, name="Initech pilot")
    OpportunityFactory(name="Globex other account")
    client = api.as_user(ops)

    assert set(ids(client.get(f"{URL}?account={account.pk}"))) == {sao.pk, fresh.pk}
    assert ids(client.get(f"{URL}?account={account.pk}&sao=true")) == [sao.pk]
    assert ids(client.get(f"{URL}?account={account.pk}&sao=false")) == [fresh.pk]
    assert ids(client.get(f"{URL}?search=initech")) == [fresh.pk]


@pytest.mark.parametrize("query", ["owner=someone", "sdr=10000000000000000000000", "stage=won", "sao=maybe",
                                   "account=abc", "account=100000000000000000000", "cursor=garbage",
                                   "ordering=iacv"])
def test_bad_list_filters_are_a_400(api, ops, query):
    assert_refused(api.as_user(ops).get(f"{URL}?{query}"))


def test_pages_follow_next_links_to_every_row_once(api, ops):
    created = OpportunityFactory.create_batch(7)
    client = api.as_user(ops)
    seen, link = [], f"{URL}?page_size=3"
    while link:
        body = client.get(link).json()
        seen += [row["id"] for row in body["results"]]
        link = body["next"]
    assert seen == [o.pk for o in reversed(created)]


@pytest.mark.parametrize("rows", [3, 60])
@pytest.mark.parametrize("who", ["sdr", "manager", "ops", "ae"])
def test_a_list_page_takes_the_same_few_queries_for_3_or_60_rows(
    api, request, sdr, ae, manager, who, rows, django_assert_max_num_queries
):
    account = AccountFactory(owner=ae)
    contact = ContactFactory(account=account)
    OpportunityFactory.create_batch(rows, owner=ae, sdr=sdr, account=account, primary_contact=contact,
                                    created_by=sdr, stage_changed_at=timezone.now() - timedelta(days=1))
    client = api.as_user({"sdr": sdr, "manager": manager, "ae": ae}.get(who) or UserFactory(role=Role.OPS))

    with django_assert_max_num_queries(MAX_LIST_QUERIES):
        response = client.get(URL)

    assert len(response.json()["results"]) == min(rows, 50)


def test_a_manager_sees_the_opportunities_of_their_teams_sdrs_only(api, sdr, manager):
    team_opportunity = OpportunityFactory(sdr=sdr)
    OpportunityFactory(sdr=UserFactory(role=Role.SDR, team=TeamFactory()))
    assert ids(api.as_user(manager).get(URL)) == [team_opportunity.pk]
