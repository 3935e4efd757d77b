"""Bulk actions on the contact, account and opportunity lists (the lead list's have their
own tests): the same rules per row as each record's own page, a result per row in words,
the selection within the list's filter and the user's access, and the list's own filters
(opportunities by owner, SDR credited and accepted period; the account CSV)."""

from __future__ import annotations

import csv
import io
from datetime import date, datetime
from zoneinfo import ZoneInfo

import pytest
from django.test import Client

from leads import bulk_actions
from leads.models import Account, BulkAction, Contact, Enrollment, Status
from opportunities.models import Opportunity, Stage
from sdrcrm.errors import Refused
from sdrcrm.models import FieldChange, Role, Segment
from tests.factories import AccountFactory, ContactFactory, OpportunityFactory, SequenceFactory, UserFactory

pytestmark = pytest.mark.django_db


def outcomes(bulk: BulkAction) -> dict[int, tuple[str, str]]:
    return {record_id: (outcome, message) for record_id, outcome, message in bulk.results}


# --- contacts --------------------------------------------------------------------------------


def test_a_manager_gives_an_sdrs_contacts_to_a_teammate_through_update_person(manager, sdr, teammate):
    contacts = ContactFactory.create_batch(2, owner=sdr)

    bulk = bulk_actions.start("contact", "assign", {"owner": teammate.pk}, [c.pk for c in contacts], manager)

    assert (bulk.record, bulk.done, bulk.refused) == ("contact", 2, 0)
    assert set(Contact.objects.filter(pk__in=[c.pk for c in contacts]).values_list("owner", flat=True)) == {
        teammate.pk}
    assert FieldChange.objects.filter(field="owner", by=manager).count() == 2


def test_contacts_change_status_with_a_reason_and_enrol_each_by_its_own_rules(sdr, other_sdr):
    mine = ContactFactory(owner=sdr, status=Status.MQL)
    theirs = ContactFactory(owner=other_sdr, status=Status.MQL)

    bulk = bulk_actions.start("contact", "status", {"status": "recycle", "reason": "evaluating"},
                              [mine.pk, theirs.pk], sdr)

    assert outcomes(bulk) == {mine.pk: ("done", "Now Recycle."),
                              theirs.pk: ("refused", "No such contact, or not one you may see.")}
    assert Contact.objects.get(pk=theirs.pk).status == Status.MQL
    fresh = ContactFactory(owner=sdr, status=Status.MQL)
    sequence = SequenceFactory()
    enrolled = bulk_actions.start("contact", "enrol", {"sequence": sequence.pk}, [fresh.pk], sdr)
    assert outcomes(enrolled)[fresh.pk][0] == "done"
    assert Enrollment.objects.filter(contact=fresh, sequence=sequence, state="active").count() == 1


# --- accounts --------------------------------------------------------------------------------


def test_an_sdr_marks_accounts_targeted_up_to_the_limit_each_refusal_in_words(sdr, settings):
    settings.TARGETED_ACCOUNTS_LIMIT = 2
    accounts = AccountFactory.create_batch(3)

    bulk = bulk_actions.start("account", "target", {}, [a.pk for a in accounts], sdr)

    assert [outcome for outcome, _ in outcomes(bulk).values()] == ["done", "done", "refused"]
    assert outcomes(bulk)[accounts[2].pk][1] == "You already target 2 accounts; unflag one before targeting another."
    assert Account.objects.filter(targeted=True, targeted_by=sdr).count() == 2
    again = bulk_actions.start("account", "target", {}, [accounts[0].pk], sdr)
    assert outcomes(again)[accounts[0].pk] == ("done", "Already targeted.")


def test_nobody_takes_an_sdrs_flag_away_but_a_manager_may(sdr, teammate, manager):
    account = AccountFactory()
    bulk_actions.start("account", "target", {}, [account.pk], sdr)

    refused = bulk_actions.start("account", "untarget", {}, [account.pk], teammate)
    assert outcomes(refused)[account.pk] == ("refused", "Only who flagged the account, a manager or ops may unflag it.")
    assert Account.objects.get(pk=account.pk).targeted

    done = bulk_actions.start("account", "untarget", {}, [account.pk], manager)
    assert outcomes(done)[account.pk] == ("done", "No longer targeted.")
    assert not Account.objects.get(pk=account.pk).targeted


def test_accounts_offer_only_the_targeted_flag_and_only_to_sales_development(sdr):
    account = AccountFactory()
    with pytest.raises(Refused, match="Pick an action: mark targeted, unmark targeted"):
        bulk_actions.start("account", "assign", {"owner": sdr.pk}, [account.pk], sdr)
    ae = UserFactory(role=Role.AE)
    with pytest.raises(Refused, match="Only sales development flags targeted accounts"):
        bulk_actions.start("account", "target", {}, [account.pk], ae)
    assert not BulkAction.objects.exists()


# --- opportunities ---------------------------------------------------------------------------


def test_ops_give_deals_to_an_ae_and_each_deal_keeps_its_own_owner_rule(ops, sdr):
    ae = UserFactory(role=Role.AE)
    pending = OpportunityFactory()
    pre = OpportunityFactory(stage=Stage.PRE_OPPORTUNITY, owner=sdr, sdr=None)

    bulk = bulk_actions.start("opportunity", "assign", {"owner": ae.pk}, [pending.pk, pre.pk], ops)
    assert {pk: outcome for pk, (outcome, _) in outcomes(bulk).items()} == {pending.pk: "done", pre.pk: "done"}
    assert set(Opportunity.objects.values_list("owner", flat=True)) == {ae.pk}

    # An SDR owns only a pre-opportunity: giving them a pending deal is that deal's refusal.
    to_sdr = bulk_actions.start("opportunity", "assign", {"owner": sdr.pk}, [pending.pk], ops)
    assert outcomes(to_sdr)[pending.pk][0] == "refused"
    assert "SAL or AE owns the opportunity" in outcomes(to_sdr)[pending.pk][1]
    assert Opportunity.objects.get(pk=pending.pk).owner == ae


def test_a_manager_may_not_reassign_a_deal_past_acceptance(manager, sdr):
    ae, other_ae = UserFactory(role=Role.AE), UserFactory(role=Role.AE)
    accepted = OpportunityFactory(owner=ae, sdr=sdr, stage=Stage.DISCOVERY, sales_accepted_date=date(2026, 11, 2))

    bulk = bulk_actions.start("opportunity", "assign", {"owner": other_ae.pk}, [accepted.pk], manager)

    assert outcomes(bulk)[accepted.pk] == ("refused", "You may read this opportunity but not change it.")
    assert Opportunity.objects.get(pk=accepted.pk).owner == ae


# --- pages -----------------------------------------------------------------------------------


def test_every_contact_matching_the_filter_within_access_is_selected_from_the_page(client, sdr, other_sdr):
    mqls = ContactFactory.create_batch(3, owner=sdr, status=Status.MQL)
    ContactFactory(owner=sdr, status=Status.RECYCLE)
    ContactFactory(owner=other_sdr, status=Status.MQL)  # not the SDR's to see
    client.force_login(sdr)

    response = client.post("/contacts/bulk/", {"kind": "status", "status": "recycle", "reason": "evaluating",
                                               "all_matching": "1", "filter": "status=mql"}, follow=True)

    bulk = BulkAction.objects.get()
    assert sorted(bulk.record_ids) == sorted(c.pk for c in mqls)
    assert response.redirect_chain[-1][0] == f"/bulk/{bulk.pk}/"
    body = response.content.decode()
    assert "3 done, 0 refused" in body and mqls[0].email in body and 'href="/contacts/"' in body


def test_the_account_list_ticks_accounts_and_the_page_names_them(client, sdr):
    acme, globex = AccountFactory(name="Acme"), AccountFactory(name="Globex")
    client.force_login(sdr)
    listing = client.get("/accounts/").content.decode()
    assert f'name="account" value="{acme.pk}"' in listing and '<option value="target">Mark targeted' in listing

    response = client.post("/accounts/bulk/", {"kind": "target", "account": [acme.pk, globex.pk]}, follow=True)

    body = response.content.decode()
    assert "2 done, 0 refused" in body and ">Acme</a>" in body and acme.domain in body
    assert set(Account.objects.filter(targeted=True).values_list("name", flat=True)) == {"Acme", "Globex"}


def test_an_sdr_gets_no_bulk_bar_on_opportunities_a_manager_assigns_to_sellers(client, sdr, manager):
    ae = UserFactory(role=Role.AE, first_name="Ari", last_name="Closer")
    OpportunityFactory(owner=ae, sdr=sdr)
    client.force_login(sdr)
    assert 'name="opportunity"' not in client.get("/opportunities/").content.decode()
    client.force_login(manager)
    listing = client.get("/opportunities/").content.decode()
    bar = listing.split('class="filters bulk-bar"')[1].split("</fieldset>")[0]
    assert 'name="opportunity"' in listing and f'<option value="{ae.pk}">Ari Closer</option>' in bar
    assert f'<option value="{sdr.pk}">' not in bar  # a deal goes to a seller


def test_another_users_bulk_action_is_not_found_and_the_forms_need_csrf(client, sdr, teammate):
    bulk = bulk_actions.start("account", "target", {}, [AccountFactory().pk], sdr)
    client.force_login(teammate)
    assert client.get(f"/bulk/{bulk.pk}/").status_code == 404
    strict = Client(enforce_csrf_checks=True)
    strict.force_login(sdr)
    for url in ("/contacts/bulk/", "/accounts/bulk/", "/opportunities/bulk/"):
        assert strict.post(url, {"kind": "target"}).status_code == 403
    assert BulkAction.objects.count() == 1


def test_a_nonsense_action_on_a_list_answers_in_words_and_writes_nothing(client, ops):
    opportunity = OpportunityFactory()
    client.force_login(ops)
    response = client.post("/opportunities/bulk/", {"kind": "status", "opportunity": [opportunity.pk],
                                                    "filter": "stage=pending_acceptance"}, follow=True)
    assert response.redirect_chain[-1][0] == "/opportunities/?stage=pending_acceptance"
    assert "Nothing done. Pick an action: assign owner." in response.content.decode()
    assert not BulkAction.objects.exists()


def test_opportunities_filter_by_owner_sdr_credited_and_accepted_period(client, ops, sdr, teammate):
    ae = UserFactory(role=Role.AE)
    november = OpportunityFactory(name="November SAO", owner=ae, sdr=sdr, stage=Stage.DISCOVERY,
                                  sales_accepted_date=date(2026, 11, 30))
    OpportunityFactory(name="December SAO", owner=ae, sdr=sdr, stage=Stage.DISCOVERY,
                       sales_accepted_date=date(2026, 12, 1))
    OpportunityFactory(name="Teammate SAO", sdr=teammate, stage=Stage.DISCOVERY,
                       sales_accepted_date=date(2026, 11, 10))
    client.force_login(ops)

    def names(query: str) -> set[str]:
        body = client.get(f"/opportunities/?{query}").content.decode()
        return {name for name in ("November SAO", "December SAO", "Teammate SAO") if name in body}

    assert names(f"sdr={sdr.pk}") == {"November SAO", "December SAO"}
    assert names(f"owner={ae.pk}") == {"November SAO", "December SAO"}
    assert names("accepted_from=2026-11-01&accepted_to=2026-11-30") == {"November SAO", "Teammate SAO"}
    assert names(f"sdr={sdr.pk}&accepted_from=2026-11-01&accepted_to=2026-11-30") == {november.name}
    export = client.get(f"/opportunities/export.csv?sdr={sdr.pk}&accepted_to=2026-11-30")
    assert [row[1] for row in csv.reader(io.StringIO(b"".join(export.streaming_content).decode()))][1:] == [
        "November SAO"]
    wrong = client.get("/opportunities/?accepted_from=2026-12-01&accepted_to=2026-11-01").content.decode()
    assert "Filter not applied: The period ends before it starts." in wrong


def test_opportunities_filter_by_qualified_and_won_period_and_segment(client, ops, sdr, settings):
    settings.COMPANY_TIME_ZONE = "America/New_York"
    new_york = ZoneInfo("America/New_York")
    large = AccountFactory(segment=Segment.LARGE)
    OpportunityFactory(name="Qualified in November", sdr=sdr, account=large, stage=Stage.SCOPING,
                       sales_accepted_date=date(2026, 11, 2), sales_qualified=True,
                       sales_qualified_date=date(2026, 11, 20))
    # Won at 23:30 on 30 November in New York (1 December in UTC): November's.
    OpportunityFactory(name="Won late on the 30th", sdr=sdr, stage=Stage.CLOSED_WON,
                       closed_at=datetime(2026, 11, 30, 23, 30, tzinfo=new_york))
    OpportunityFactory(name="Won in December", sdr=sdr, stage=Stage.CLOSED_WON,
                       closed_at=datetime(2026, 12, 1, 9, 0, tzinfo=new_york))
    OpportunityFactory(name="Lost in November", sdr=sdr, stage=Stage.CLOSED_LOST,
                       closed_at=datetime(2026, 11, 15, 9, 0, tzinfo=new_york))
    client.force_login(ops)

    def names(query: str) -> set[str]:
        body = client.get(f"/opportunities/?{query}").content.decode()
        return {name for name in ("Qualified in November", "Won late on the 30th", "Won in December",
                                  "Lost in November") if name in body}

    assert names("qualified_from=2026-11-01&qualified_to=2026-11-30") == {"Qualified in November"}
    assert names("won_from=2026-11-01&won_to=2026-11-30") == {"Won late on the 30th"}
    assert names("won_from=2026-12-01") == {"Won in December"}
    assert names("segment=large") == {"Qualified in November"}
    for period in ("qualified", "won"):
        wrong = client.get(f"/opportunities/?{period}_from=2026-12-01&{period}_to=2026-11-01").content.decode()
        assert "Filter not applied: The period ends before it starts." in wrong
    assert "Filter not applied" in client.get("/opportunities/?segment=huge").content.decode()


def test_the_account_list_exports_its_search_as_safe_csv(client, sdr):
    AccountFactory(name="=Acme formula")
    AccountFactory(name="Globex")
    client.force_login(sdr)
    response = client.get("/accounts/export.csv?q=acme")
    rows = list(csv.reader(io.StringIO(b"".join(response.streaming_content).decode())))
    assert rows[0][:3] == ["id", "name", "domain"]
    assert [row[1] for row in rows[1:]] == ["'=Acme formula"]
