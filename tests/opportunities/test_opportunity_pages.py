"""The opportunity pages (docs/rules.md §9): the list of what the user sees, the opportunity page with
its snapshots and history, and its stage and qualification forms, which go through the same
services as the API and show their refusals."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

import pytest
from django.test import Client
from django.utils import timezone

from opportunities.models import Opportunity, Stage, StageChange
from sdrcrm.models import Role
from tests.factories import AccountFactory, ContactFactory, OpportunityFactory, UserFactory
from tests.opportunities.conftest import sao_ready

pytestmark = pytest.mark.django_db


@pytest.fixture
def ada(db):
    """Ada Seller, the AE who owns the Globex deal (the opportunity page shows her name)."""
    return UserFactory(role=Role.AE, first_name="Ada", last_name="Seller")


@pytest.fixture
def globex(ada, sdr):
    """Ada's stage-0 "Globex - 300 seats", credited to `sdr`, that meets the SAO criteria: on
    the account Globex, with Hank Scorpio as its primary contact."""
    account = AccountFactory(name="Globex", owner=ada)
    return sao_ready(name="Globex - 300 seats", owner=ada, sdr=sdr, account=account,
                     primary_contact=ContactFactory(account=account, first_name="Hank", last_name="Scorpio"))


def page(client, path: str) -> str:
    response = client.get(path)
    assert response.status_code == 200, response.status_code
    return response.content.decode()


# --- list -----------------------------------------------------------------------------------


def test_the_list_shows_what_the_user_sees_only(client, sdr, globex):
    OpportunityFactory(name="Someone else's deal")
    client.force_login(sdr)

    html = page(client, "/opportunities/")

    assert "Globex - 300 seats" in html and f'href="/opportunities/{globex.pk}/"' in html
    assert "Someone else&#x27;s deal" not in html and "Someone else's deal" not in html


def test_the_list_filters_by_stage_and_mine(client, ada, globex):
    OpportunityFactory(name="Initech renewal", owner=ada, stage=Stage.DISCOVERY)
    OpportunityFactory(name="Account-owned deal", account=globex.account)  # seen by the AE, not theirs
    client.force_login(ada)

    by_stage = page(client, "/opportunities/?stage=discovery")
    mine = page(client, "/opportunities/?mine=on")

    assert "Initech renewal" in by_stage and "Globex - 300 seats" not in by_stage
    assert "Initech renewal" in mine and "Globex - 300 seats" in mine and "Account-owned deal" not in mine


def test_the_list_pages_newest_first_with_a_next_link(client, ops, django_assert_max_num_queries):
    OpportunityFactory(name="Oldest deal")
    OpportunityFactory.create_batch(50)
    client.force_login(ops)

    # Session and user, the rows, the owner, SDR and team filters' choices, the bulk bar's owners, the unread count…
    with django_assert_max_num_queries(11):
        first = page(client, "/opportunities/")

    assert "Oldest deal" not in first and 'rel="next"' in first
    next_link = first.split('rel="next"')[0].rsplit('href="', 1)[1].split('"')[0].replace("&amp;", "&")
    second = page(client, f"/opportunities/{next_link}")
    assert "Oldest deal" in second and 'rel="next"' not in second


def test_a_stale_cursor_sends_back_to_the_first_page(client, ops):
    client.force_login(ops)
    response = client.get("/opportunities/?cursor=garbage", follow=True)
    assert "out of date" in response.content.decode()


# --- detail ---------------------------------------------------------------------------------


def test_the_page_shows_the_fields_snapshots_account_contact_and_history(client, ada, sdr, globex):
    Opportunity.objects.filter(pk=globex.pk).update(sales_accepted_date=timezone.localdate() - timedelta(days=3),
                                                      stage=Stage.SCOPING, sales_qualified=True,
                                                      sales_qualified_date=timezone.localdate(),
                                                      initial_iacv=Decimal("18000"))
    StageChange.objects.create(opportunity=globex, old="discovery", new="scoping", by=ada, at=timezone.now())
    client.force_login(ada)

    html = page(client, f"/opportunities/{globex.pk}/")

    assert f'href="/accounts/{globex.account_id}/">Globex</a>' in html
    assert "Hank Scorpio" in html and "Ada Seller" in html and sdr.get_full_name() in html
    assert "<dt>Initial IACV</dt><dd>$18,000.00</dd>" in html and "SQO" in html
    assert "1-Discovery → 2-Scoping" in html


def test_another_sdrs_opportunity_page_is_not_found(client, other_sdr, globex):
    client.force_login(other_sdr)
    assert client.get(f"/opportunities/{globex.pk}/").status_code == 404
    assert client.post(f"/opportunities/{globex.pk}/stage/", {"stage": "duplicate"}).status_code == 404
    assert client.post(f"/opportunities/{globex.pk}/edit/", {"competition": "x"}).status_code == 404
    assert Opportunity.objects.get(pk=globex.pk).stage == Stage.PENDING_ACCEPTANCE


def test_the_pages_need_a_login(client, globex):
    response = client.get(f"/opportunities/{globex.pk}/")
    assert response.status_code == 302 and "/login/" in response["Location"]


def test_the_sdr_is_not_offered_acceptance_but_the_owner_is(client, sdr, ada, globex):
    client.force_login(sdr)
    sdr_html = page(client, f"/opportunities/{globex.pk}/")
    client.force_login(ada)
    owner_html = page(client, f"/opportunities/{globex.pk}/")

    assert '<option value="discovery">' not in sdr_html and '<option value="closed_lost">' in sdr_html
    assert '<option value="discovery">' in owner_html


# --- stage form -----------------------------------------------------------------------------


def test_the_stage_form_moves_the_stage_and_redirects(client, ada, globex):
    client.force_login(ada)

    response = client.post(f"/opportunities/{globex.pk}/stage/", {"stage": "discovery"})

    assert response.status_code == 302 and response["Location"] == f"/opportunities/{globex.pk}/"
    fresh = Opportunity.objects.get(pk=globex.pk)
    assert fresh.stage == Stage.DISCOVERY and fresh.sales_accepted_date == timezone.localdate()
    html = page(client, response["Location"])
    assert "Stage is now 1-Discovery." in html and "0-Pending Acceptance → 1-Discovery" in html


def test_a_refused_move_shows_the_rule_and_changes_nothing(client, ada, globex):
    Opportunity.objects.filter(pk=globex.pk).update(authority_confirmed=False)
    client.force_login(ada)

    response = client.post(f"/opportunities/{globex.pk}/stage/", {"stage": "discovery"}, follow=True)

    assert "An SAO needs authority confirmed" in response.content.decode()
    assert Opportunity.objects.get(pk=globex.pk).stage == Stage.PENDING_ACCEPTANCE


def test_closing_lost_from_the_page_with_a_reason(client, ada, globex):
    client.force_login(ada)
    client.post(f"/opportunities/{globex.pk}/stage/", {"stage": "closed_lost", "closed_lost_reason": "timing",
                                                       "closed_lost_details": "Budget next year"})
    fresh = Opportunity.objects.get(pk=globex.pk)
    assert (fresh.stage, fresh.closed_lost_reason, fresh.closed_lost_details) == (
        Stage.CLOSED_LOST, "timing", "Budget next year")


@pytest.mark.parametrize("merged_into", ["abc", "100000000000000000000", "99999999"])
def test_a_bad_merged_into_is_a_message_not_an_error(client, ada, globex, merged_into):
    client.force_login(ada)
    response = client.post(f"/opportunities/{globex.pk}/stage/", {
        "stage": "closed_lost", "closed_lost_reason": "merged", "merged_into": merged_into}, follow=True)
    assert response.status_code == 200
    assert 'class="msg error"' in response.content.decode()
    assert Opportunity.objects.get(pk=globex.pk).stage == Stage.PENDING_ACCEPTANCE


def test_a_reader_cannot_move_the_stage_from_the_page(client, sdr, globex):
    Opportunity.objects.filter(pk=globex.pk).update(stage=Stage.DISCOVERY, sales_accepted_date=timezone.localdate())
    client.force_login(sdr)

    response = client.post(f"/opportunities/{globex.pk}/stage/", {"stage": "scoping"}, follow=True)

    assert "You may read this opportunity but not change it" in response.content.decode()
    assert Opportunity.objects.get(pk=globex.pk).stage == Stage.DISCOVERY


def test_a_closed_lost_opportunity_past_the_window_says_to_create_a_new_one(client, ada, globex):
    Opportunity.objects.filter(pk=globex.pk).update(stage=Stage.CLOSED_LOST, closed_lost_reason="timing",
                                                      closed_at=timezone.now() - timedelta(days=40))
    client.force_login(ada)
    assert "create a new opportunity" in page(client, f"/opportunities/{globex.pk}/")


def test_the_actions_need_post(client, ada, globex):
    client.force_login(ada)
    assert client.get(f"/opportunities/{globex.pk}/stage/").status_code == 405
    assert client.get(f"/opportunities/{globex.pk}/edit/").status_code == 405


def test_the_forms_need_the_csrf_token(ada, globex):
    client = Client(enforce_csrf_checks=True)
    client.force_login(ada)
    assert client.post(f"/opportunities/{globex.pk}/stage/", {"stage": "discovery"}).status_code == 403
    assert Opportunity.objects.get(pk=globex.pk).stage == Stage.PENDING_ACCEPTANCE


# --- qualification form ---------------------------------------------------------------------


def test_the_owner_saves_qualification_fields(client, ada, globex):
    client.force_login(ada)

    response = client.post(f"/opportunities/{globex.pk}/edit/", {
        "iacv": "25000", "authority_confirmed": "on", "business_problem": "Audit findings",
        "competition": "Jenkins", "potential_seats": "300", "deployment_preference": "saas"})

    assert response.status_code == 302
    fresh = Opportunity.objects.get(pk=globex.pk)
    assert (fresh.iacv, fresh.business_problem, fresh.competition, fresh.potential_seats,
            fresh.deployment_preference) == (Decimal("25000"), "Audit findings", "Jenkins", 300, "saas")


def test_bad_qualification_input_is_a_message(client, ada, globex):
    client.force_login(ada)
    response = client.post(f"/opportunities/{globex.pk}/edit/", {"iacv": "lots", "potential_seats": "-3"},
                           follow=True)
    assert "Not saved." in response.content.decode()
    assert Opportunity.objects.get(pk=globex.pk).iacv == Decimal("20000")


def test_a_reader_sees_the_qualification_without_a_form(client, sdr, globex):
    Opportunity.objects.filter(pk=globex.pk).update(stage=Stage.DISCOVERY, sales_accepted_date=timezone.localdate())
    client.force_login(sdr)

    html = page(client, f"/opportunities/{globex.pk}/")

    assert "Slow releases" in html and f'action="/opportunities/{globex.pk}/edit/"' not in html
    response = client.post(f"/opportunities/{globex.pk}/edit/", {"iacv": "1", "business_problem": "x"}, follow=True)
    assert "You may read this opportunity but not change it" in response.content.decode()
    assert Opportunity.objects.get(pk=globex.pk).business_problem == "Slow releases"


def test_the_nav_links_to_the_opportunities(client, sdr):
    client.force_login(sdr)
    assert 'href="/opportunities/">Opportunities</a>' in page(client, "/leads/")


# --- admin ----------------------------------------------------------------------------------


def admin_body(opportunity: Opportunity, **changes) -> dict:
    """The change form as the admin posts it: every editable field, no stage-change rows."""
    body = {
        "name": opportunity.name, "owner": opportunity.owner_id, "sdr": opportunity.sdr_id or "",
        "primary_contact": opportunity.primary_contact_id or "", "reseller_contact": "", "reseller_account": "",
        "iacv": opportunity.iacv, "amount": opportunity.amount, "source": opportunity.source,
        "business_problem": opportunity.business_problem, "authority_confirmed": "on",
        "stage_changes-TOTAL_FORMS": "0", "stage_changes-INITIAL_FORMS": "0",
    }
    return {**body, **changes}


def test_the_admin_saves_an_edit_but_never_the_stage(ops_client, globex):
    response = ops_client.post(f"/admin/opportunities/opportunity/{globex.pk}/change/",
                               admin_body(globex, competition="Jenkins", stage="closed_won",
                                          sales_accepted_date="2020-01-01"))

    assert response.status_code == 302, response.content.decode()[-2000:]
    fresh = Opportunity.objects.get(pk=globex.pk)
    assert fresh.competition == "Jenkins"
    assert fresh.stage == Stage.PENDING_ACCEPTANCE and fresh.sales_accepted_date is None


def test_the_admin_refuses_what_the_api_refuses(ops_client, globex):
    response = ops_client.post(f"/admin/opportunities/opportunity/{globex.pk}/change/",
                               admin_body(globex, sdr=globex.owner_id))

    assert response.status_code == 200
    assert "cannot also own" in response.content.decode()
    assert Opportunity.objects.get(pk=globex.pk).sdr_id != globex.owner_id


def test_opportunities_and_stage_changes_are_not_added_or_deleted_for_good_in_the_admin(ops_client, globex):
    change = StageChange.objects.create(opportunity=globex, old="", new="pending_acceptance", at=timezone.now())
    assert ops_client.get("/admin/opportunities/opportunity/add/").status_code == 403
    assert ops_client.get("/admin/opportunities/stagechange/add/").status_code == 403
    assert ops_client.get(f"/admin/opportunities/opportunity/{globex.pk}/change/").status_code == 200
    assert ops_client.get("/admin/opportunities/opportunity/").status_code == 200
    # docs/rules.md §11.2: the admin's delete is the soft one (restorable by ops), its history kept.
    assert ops_client.post(f"/admin/opportunities/opportunity/{globex.pk}/delete/", {"post": "yes"}).status_code \
        == 302
    assert StageChange.objects.filter(pk=change.pk).exists() and Opportunity.all_objects.filter(pk=globex.pk).exists()
    assert not Opportunity.objects.filter(pk=globex.pk).exists()


# --- New opportunity from the account page ------------------------------------------------------

def test_an_sdr_opens_an_opportunity_for_an_ae_from_the_account_page_and_is_credited(client, sdr):
    ae = UserFactory(role="ae")
    account = AccountFactory(name="Initech")
    client.force_login(sdr)
    assert "Open opportunity" in client.get(f"/accounts/{account.pk}/").content.decode()

    response = client.post(f"/opportunities/new/{account.pk}/", {"stage": "pending_acceptance", "owner": ae.pk,
                                                                 "iacv": "12000"}, follow=True)

    opportunity = Opportunity.objects.get(account=account)
    assert (opportunity.name, opportunity.owner, opportunity.sdr, opportunity.stage) == (
        "Initech - New business", ae, sdr, "pending_acceptance")
    assert "Opened Initech - New business" in response.content.decode()


def test_an_sdrs_pre_opportunity_is_their_own_with_nobody_credited(client, sdr):
    account = AccountFactory()
    client.force_login(sdr)
    client.post(f"/opportunities/new/{account.pk}/", {"stage": "pre_opportunity", "name": "Warm chat"})
    opportunity = Opportunity.objects.get(account=account)
    assert (opportunity.owner, opportunity.sdr, opportunity.stage) == (sdr, None, "pre_opportunity")


def test_an_sdr_without_an_owner_for_a_pending_opportunity_gets_the_rule_and_nothing_is_written(client, sdr):
    account = AccountFactory()
    client.force_login(sdr)
    response = client.post(f"/opportunities/new/{account.pk}/", {"stage": "pending_acceptance"}, follow=True)
    assert "Give the owner" in response.content.decode()
    assert not Opportunity.objects.filter(account=account).exists()


def test_a_bad_iacv_on_the_new_opportunity_form_is_a_message(client, sdr):
    account = AccountFactory()
    client.force_login(sdr)
    response = client.post(f"/opportunities/new/{account.pk}/", {"stage": "pending_acceptance", "iacv": "lots"},
                           follow=True)
    assert "Check the new opportunity" in response.content.decode()
    assert not Opportunity.objects.filter(account=account).exists()


def test_an_integration_cannot_open_one_from_the_pages(client, integration):
    # Integration users work through the API: every page answers them 403.
    account = AccountFactory(created_by=integration)
    client.force_login(integration)
    assert client.post(f"/opportunities/new/{account.pk}/", {"stage": "pre_opportunity"}).status_code == 403
    assert not Opportunity.objects.filter(account=account).exists()
    assert client.post(f"/opportunities/new/{AccountFactory().pk}/", {"stage": "pre_opportunity"}).status_code == 403


def test_an_account_one_may_not_see_is_404_on_the_new_opportunity_page(client):
    seller = UserFactory(role="ae")
    someone_elses = AccountFactory(owner=UserFactory(role="ae"))  # sellers see the accounts they own
    client.force_login(seller)
    assert client.post(f"/opportunities/new/{someone_elses.pk}/", {"stage": "pending_acceptance"}).status_code == 404
    assert not Opportunity.objects.exists()


def test_a_255_character_account_name_still_gives_a_default_name_that_fits(client, sdr):
    ae = UserFactory(role="ae")
    account = AccountFactory(name="A" * 255)
    client.force_login(sdr)

    client.post(f"/opportunities/new/{account.pk}/", {"stage": "pending_acceptance", "owner": ae.pk})

    name = Opportunity.objects.get(account=account).name
    assert len(name) == 255 and name.endswith(" - New business")


# --- touches --------------------------------------------------------------------------------


def test_a_touch_from_the_opportunity_page_lands_on_its_primary_contact(client, ada, globex):
    from leads.models import Activity

    client.force_login(ada)
    assert f'action="/opportunities/{globex.pk}/touch/"' in page(client, f"/opportunities/{globex.pk}/")

    response = client.post(f"/opportunities/{globex.pk}/touch/", {"type": "meeting", "notes": "Demo went well"},
                           follow=True)

    assert "Meeting logged." in response.content.decode()
    activity = Activity.objects.get()
    assert (activity.contact, activity.type, activity.created_by) == (globex.primary_contact, "meeting", ada)


def test_without_a_primary_contact_the_touch_is_refused_in_words(client, ada):
    deal = OpportunityFactory(owner=ada, primary_contact=None)
    client.force_login(ada)
    response = client.post(f"/opportunities/{deal.pk}/touch/", {"type": "note", "notes": "x"}, follow=True)
    assert "Not logged. The opportunity has no primary contact to log it on; set one first." in (
        response.content.decode())


def test_a_reader_cannot_log_a_touch_on_the_deal(client, globex):
    from leads.models import Activity

    client.force_login(UserFactory(role=Role.AE))
    assert client.post(f"/opportunities/{globex.pk}/touch/", {"type": "note", "notes": "x"}).status_code == 404
    assert not Activity.objects.exists()
