"""Converting a lead (docs/rules.md §4): the service, routing rule 2 through it, and the lead
page's Convert card."""

from __future__ import annotations

import threading
from datetime import timedelta
from decimal import Decimal

import factory
import pytest
from django.db import connection
from django.utils import timezone

from leads import accounts, lifecycle, services
from leads.conversion import convert_lead
from leads.models import (
    Account,
    AccountType,
    Activity,
    Cause,
    Contact,
    Enrollment,
    Lead,
    Queue,
    Status,
    StatusChange,
)
from opportunities.models import IQM, Opportunity, Source, Stage, StageChange
from routing import services as routing_services
from scoring.models import ScoreEntry
from sdrcrm.errors import Refused
from sdrcrm.models import Role
from tests.conftest import on_postgres, require
from tests.factories import (
    AccountFactory,
    ContactFactory,
    EnrollmentFactory,
    IQMFactory,
    LeadFactory,
    UserFactory,
)

pytestmark = pytest.mark.django_db

NOW = timezone.now()


def unchanged(lead: Lead) -> None:
    """The lead is as it was before a refused conversion: open, unconverted, nothing moved."""
    lead = Lead.objects.get(pk=lead.pk)
    assert lead.converted_to_id is None and lead.status != Status.QUALIFIED
    assert not StatusChange.objects.filter(lead=lead, new=Status.QUALIFIED).exists()


# --- Where the lead goes -------------------------------------------------------------------


def test_a_qualifying_lead_becomes_a_contact_of_a_new_account(sdr, qualifying):
    result = convert_lead(qualifying, by=sdr, new_account={
        "name": "Initech", "domain": "https://www.Initech.com/", "employee_count": 500, "country": "DE"})

    account = Account.objects.get(pk=result.account.pk)
    assert (account.name, account.domain, account.segment, account.region) == ("Initech", "initech.com",
                                                                               "mid_market", "emea")
    assert account.created_by == sdr
    contact = Contact.objects.get(pk=result.contact.pk)
    assert (contact.account, contact.owner, contact.email, contact.full_name, contact.title, contact.phone) == (
        account, sdr, "pat@initech.com", "Pat Lee", "VP Engineering", "+1 415 555 0100")
    assert contact.role == ""


def test_the_converted_lead_is_qualified_and_points_to_its_contact(sdr, qualifying):
    result = convert_lead(qualifying, by=sdr, new_account={"name": "Initech"}, now=NOW)

    lead = Lead.objects.get(pk=qualifying.pk)
    assert (lead.status, lead.converted_to, lead.owner) == (Status.QUALIFIED, result.contact, sdr)
    change = StatusChange.objects.get(lead=lead)
    assert (change.old, change.new, change.cause, change.by, change.at) == (
        Status.QUALIFYING, Status.QUALIFIED, Cause.MANUAL, sdr, NOW)


def test_without_an_account_the_lead_goes_to_its_matched_account(sdr, qualifying):
    matched = AccountFactory(name="Initech")
    Lead.objects.filter(pk=qualifying.pk).update(account=matched)
    qualifying.refresh_from_db()

    result = convert_lead(qualifying, by=sdr)

    assert result.account == matched and result.contact.account == matched
    assert Account.objects.count() == 1


def test_a_given_account_wins_over_the_matched_one(sdr, qualifying):
    Lead.objects.filter(pk=qualifying.pk).update(account=AccountFactory())
    qualifying.refresh_from_db()
    chosen = AccountFactory(name="Chosen")

    assert convert_lead(qualifying, by=sdr, account=chosen).contact.account == chosen


def test_a_lead_with_no_account_to_go_to_is_refused(sdr, qualifying):
    with pytest.raises(Refused, match="Pick the account") as refused:
        convert_lead(qualifying, by=sdr)
    assert refused.value.field == "account"
    unchanged(qualifying)


def test_an_existing_account_and_a_new_one_together_are_refused(sdr, qualifying):
    with pytest.raises(Refused, match="not both"):
        convert_lead(qualifying, by=sdr, account=AccountFactory(), new_account={"name": "Other"})
    assert Account.objects.count() == 1


def test_a_new_account_for_a_domain_that_has_one_is_refused(sdr, qualifying):
    AccountFactory(domain="initech.com")
    with pytest.raises(Refused, match="initech.com already exists"):
        convert_lead(qualifying, by=sdr, new_account={"name": "Initech", "domain": "www.initech.com"})
    assert Account.objects.count() == 1


def test_a_new_account_needs_a_name(sdr, qualifying):
    with pytest.raises(Refused, match="needs a name"):
        convert_lead(qualifying, by=sdr, new_account={"name": "  ", "domain": "initech.com"})
    assert not Account.objects.exists()


# --- Status rules --------------------------------------------------------------------------


def test_an_mql_lead_at_an_existing_customer_converts_and_its_contact_goes_to_the_account_owner(sdr, ae):
    customer = AccountFactory(type=AccountType.CUSTOMER, owner=ae)
    lead = LeadFactory(owner=sdr, status=Status.MQL, account=customer)

    result = convert_lead(lead, by=sdr)

    assert result.contact.owner == ae and result.contact.account == customer
    lead.refresh_from_db()
    assert (lead.status, lead.owner) == (Status.QUALIFIED, sdr)  # the SDR keeps the lead they converted
    assert StatusChange.objects.get(lead=lead).old == Status.MQL


def test_an_mql_lead_at_a_prospect_account_is_refused_naming_its_status(sdr):
    lead = LeadFactory(owner=sdr, status=Status.MQL)
    with pytest.raises(Refused, match="This lead is MQL: it must be Qualifying to be converted") as refused:
        convert_lead(lead, by=sdr, account=AccountFactory(type=AccountType.PROSPECT))
    assert refused.value.field == "status"
    unchanged(lead)
    assert not Contact.objects.exists()


def test_a_closed_lead_is_refused_even_at_a_customer(sdr):
    lead = LeadFactory(owner=sdr, status=Status.UNQUALIFIED, status_reason="not_a_fit")
    with pytest.raises(Refused, match="This lead is Unqualified, a closed status"):
        convert_lead(lead, by=sdr, account=AccountFactory(type=AccountType.CUSTOMER))
    assert not Contact.objects.exists()


def test_typing_a_new_account_as_customer_does_not_skip_qualifying(sdr):
    lead = LeadFactory(owner=sdr, status=Status.MQL)
    with pytest.raises(Refused, match="must be Qualifying to be converted"):
        convert_lead(lead, by=sdr, new_account={"name": "Sneaky", "type": AccountType.CUSTOMER})
    assert not Account.objects.exists()


def test_converting_twice_is_refused_even_from_a_copy_read_before_the_first(sdr, qualifying):
    stale = Lead.objects.get(pk=qualifying.pk)  # a second request read it before the first converted
    convert_lead(qualifying, by=sdr, new_account={"name": "Initech"})

    with pytest.raises(Refused, match="already converted"):
        convert_lead(stale, by=sdr, new_account={"name": "Initech Again"})
    assert Contact.objects.count() == 1 and Account.objects.count() == 1


# --- Merging into an existing contact --------------------------------------------------------


@pytest.mark.django_db(transaction=True)
@pytest.mark.usefixtures("seeded")
def test_two_racing_conversions_of_one_lead_take_turns_and_only_one_converts():
    require(on_postgres(), "CI must run the row-lock test on PostgreSQL", "needs PostgreSQL row locks")
    sdr = UserFactory(role=Role.SDR)
    lead = LeadFactory(owner=sdr, status=Status.QUALIFYING)
    barrier = threading.Barrier(2)
    outcomes: list[str] = []

    def convert(name: str) -> None:
        copy = Lead.objects.get(pk=lead.pk)  # both read it qualifying and unconverted
        barrier.wait()
        try:
            convert_lead(copy, by=sdr, new_account={"name": name})
            outcomes.append("converted")
        except Refused as refused:
            outcomes.append(refused.message)
        finally:
            connection.close()

    threads = [threading.Thread(target=convert, args=(name,)) for name in ("First", "Second")]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert sorted(outcomes) == sorted(["converted", f"{lead.full_name} was already converted."])
    assert Contact.objects.count() == 1 and Account.objects.count() == 1
    assert StatusChange.objects.filter(lead=lead, new=Status.QUALIFIED).count() == 1


def test_a_lead_merges_into_the_contact_with_its_email_filling_only_its_blanks(sdr, qualifying, ae):
    account = AccountFactory(type=AccountType.CUSTOMER, owner=ae)
    # Stored as it came, before emails were lower-cased: the lead's email still finds it.
    contact = ContactFactory(account=account, email=factory.Transformer.Force("PAT@initech.com"), title="CTO",
                             phone="", first_name="Patricia", city="", owner=None, mql_at=NOW - timedelta(days=3))
    Lead.objects.filter(pk=qualifying.pk).update(city="Austin", mql_at=NOW - timedelta(days=9), last_mql_at=NOW)
    qualifying.refresh_from_db()

    result = convert_lead(qualifying, by=sdr, account=account)

    assert result.contact.pk == contact.pk
    assert Contact.objects.count() == 1
    contact.refresh_from_db()
    # Its own values are kept; what it lacked comes from the lead.
    assert (contact.title, contact.first_name, contact.email) == ("CTO", "Patricia", "PAT@initech.com")
    assert (contact.phone, contact.city) == ("+1 415 555 0100", "Austin")
    assert contact.mql_at == NOW - timedelta(days=9) and contact.last_mql_at == NOW
    assert contact.owner == ae  # it had none: the customer account's owner takes it


def test_a_merged_contact_keeps_its_owner(sdr, qualifying, ae):
    account = AccountFactory(owner=ae)
    contact = ContactFactory(account=account, email="pat@initech.com", owner=ae)
    convert_lead(qualifying, by=sdr, account=account)
    contact.refresh_from_db()
    assert contact.owner == ae


def test_a_contact_with_the_email_at_another_account_is_not_merged_into(sdr, qualifying):
    ContactFactory(account=AccountFactory(), email="pat@initech.com")
    result = convert_lead(qualifying, by=sdr, account=AccountFactory())
    assert Contact.objects.count() == 2 and result.contact.email == "pat@initech.com"


# --- What moves to the contact ---------------------------------------------------------------


@pytest.fixture
def worked_lead(sdr):
    """A lead with real history: ingested, scored, accepted, replied, enrolled and booked."""
    lead = services.ingest_lead({"email": "dana@globex.com", "last_name": "Dana", "initial_source": "webcast",
                                 "title": "Director", "owner": sdr}, by=sdr).lead
    services.record_activity(lead, "pricing_page_visit")
    services.record_activity(lead, "webcast_attended_low_intent")
    lifecycle.transition(lead, Status.ACCEPTED, by=sdr)
    lifecycle.transition(lead, Status.QUALIFYING, by=sdr)
    lead.refresh_from_db()
    return lead


def test_activities_ledger_history_iqms_and_enrolments_move_to_the_contact(sdr, worked_lead):
    lead = worked_lead
    old_finished = EnrollmentFactory(lead=lead, state=Enrollment.State.FINISHED, finish_reason="replied",
                                     finished_at=NOW - timedelta(days=5))
    active = EnrollmentFactory(lead=lead)
    iqm = IQMFactory(lead=lead, sdr=sdr, account=None)
    activities = set(Activity.objects.filter(lead=lead).values_list("pk", flat=True))
    ledger = set(ScoreEntry.objects.filter(lead=lead).values_list("pk", flat=True))
    history = set(StatusChange.objects.filter(lead=lead).values_list("pk", flat=True))
    assert len(activities) == 2 and ledger and len(history) == 3

    result = convert_lead(lead, by=sdr, new_account={"name": "Globex"}, now=NOW)
    contact = result.contact

    assert set(contact.activities.values_list("pk", flat=True)) == activities
    assert set(contact.score_entries.values_list("pk", flat=True)) == ledger
    assert history <= set(contact.status_changes.values_list("pk", flat=True))
    assert not Activity.objects.filter(lead=lead).exists() and not ScoreEntry.objects.filter(lead=lead).exists()
    # The lead keeps only the row of its own conversion.
    assert list(StatusChange.objects.filter(lead=lead).values_list("old", "new")) == [
        (Status.QUALIFYING, Status.QUALIFIED)]
    active.refresh_from_db()
    assert (active.state, active.finish_reason, active.finished_at) == (
        Enrollment.State.FINISHED, Enrollment.FinishReason.CONVERTED, NOW)
    assert (active.lead, active.contact) == (None, contact)
    old_finished.refresh_from_db()
    assert (old_finished.contact, old_finished.finish_reason) == (contact, "replied")
    iqm.refresh_from_db()
    assert (iqm.lead, iqm.contact, iqm.account) == (None, contact, result.account)


def test_the_contact_is_rescored_to_the_leads_score(sdr, worked_lead):
    contact = convert_lead(worked_lead, by=sdr, new_account={"name": "Globex"}).contact
    contact.refresh_from_db()
    assert contact.score == worked_lead.score > 0
    assert sum(contact.score_entries.values_list("points", flat=True)) == contact.score


def test_an_iqm_keeps_the_account_it_was_booked_at(sdr, qualifying):
    booked_at = AccountFactory()
    iqm = IQMFactory(lead=qualifying, sdr=sdr, account=booked_at)
    convert_lead(qualifying, by=sdr, new_account={"name": "Initech"})
    iqm.refresh_from_db()
    assert iqm.account == booked_at


# --- The opportunity -------------------------------------------------------------------------


def test_an_opportunity_is_created_pending_acceptance_for_the_account_and_contact(sdr, qualifying, ae):
    iqm = IQMFactory(lead=qualifying, sdr=sdr)
    result = convert_lead(qualifying, by=sdr, new_account={"name": "Initech"}, opportunity={
        "owner": ae, "iacv": Decimal("24000"), "authority_confirmed": True, "business_problem": "Slow releases"},
        now=NOW)

    opportunity = Opportunity.objects.get(pk=result.opportunity.pk)
    assert (opportunity.name, opportunity.stage, opportunity.account, opportunity.owner, opportunity.sdr) == (
        "Initech - New business", Stage.PENDING_ACCEPTANCE, result.account, ae, sdr)
    assert (opportunity.lead, opportunity.primary_contact, opportunity.source) == (
        qualifying, result.contact, Source.SDR_GENERATED)
    assert (opportunity.iacv, opportunity.authority_confirmed, opportunity.business_problem) == (
        Decimal("24000"), True, "Slow releases")
    assert StageChange.objects.filter(opportunity=opportunity, new=Stage.PENDING_ACCEPTANCE).exists()
    iqm.refresh_from_db()
    assert iqm.opportunity == opportunity
    # The AE sees the new account of their deal: they own it.
    assert Account.objects.get(pk=result.account.pk).owner == ae


def test_with_an_opportunity_the_contact_is_qualified_too(sdr, qualifying, ae):
    contact = convert_lead(qualifying, by=sdr, new_account={"name": "Initech"}, opportunity={"owner": ae}).contact
    contact.refresh_from_db()
    assert contact.status == Status.QUALIFIED
    assert contact.status_changes.filter(old=Status.QUALIFYING, new=Status.QUALIFIED).count() == 1


def test_without_an_opportunity_the_contact_carries_on_in_the_leads_status(sdr, ae):
    lead = LeadFactory(owner=sdr, status=Status.MQL)
    contact = convert_lead(lead, by=sdr, account=AccountFactory(type=AccountType.CUSTOMER, owner=ae)).contact
    contact.refresh_from_db()
    assert contact.status == Status.MQL  # the account owner works it from their MQL contacts


def test_a_named_credited_sdr_and_name_are_kept(sdr, teammate, qualifying, ae):
    opportunity = convert_lead(qualifying, by=sdr, new_account={"name": "Initech"}, opportunity={
        "owner": ae, "sdr": teammate, "name": "Initech - 200 seats", "source": Source.MARKETING}).opportunity
    assert (opportunity.sdr, opportunity.name, opportunity.source) == (teammate, "Initech - 200 seats",
                                                                       Source.MARKETING)


def test_professional_services_are_not_credited_to_the_converting_sdr(sdr, qualifying, ae):
    opportunity = convert_lead(qualifying, by=sdr, new_account={"name": "Initech"},
                               opportunity={"owner": ae, "professional_services": True}).opportunity
    assert opportunity.sdr is None


def test_a_very_long_account_name_still_fits_the_opportunity_name(sdr, qualifying, ae):
    opportunity = convert_lead(qualifying, by=sdr, new_account={"name": "N" * 255},
                               opportunity={"owner": ae}).opportunity
    assert len(opportunity.name) == 255 and opportunity.name.endswith(" - New business")


def test_an_opportunity_credited_to_its_owner_rolls_the_whole_conversion_back(sdr, worked_lead, ae):
    IQMFactory(lead=worked_lead, sdr=sdr)
    with pytest.raises(Refused, match="cannot also own"):
        convert_lead(worked_lead, by=sdr, new_account={"name": "Globex"}, opportunity={"owner": ae, "sdr": ae})

    assert not Account.objects.filter(name="Globex").exists()
    assert not Contact.objects.exists() and not Opportunity.objects.exists()
    unchanged(worked_lead)
    assert Activity.objects.filter(lead=worked_lead).count() == 2
    assert IQM.objects.filter(lead=worked_lead).count() == 1


def test_the_opportunity_owner_must_be_a_sal_or_ae(sdr, teammate, qualifying):
    with pytest.raises(Refused, match="goes to an active SAL or AE"):
        convert_lead(qualifying, by=sdr, new_account={"name": "Initech"}, opportunity={"owner": teammate})
    assert not Account.objects.exists()


# --- Reseller deals --------------------------------------------------------------------------


@pytest.fixture
def reseller_lead(sdr):
    # An inquiry: the reseller is a third party, not a qualified buyer.
    return LeadFactory(owner=sdr, status=Status.INQUIRY, email="sam@resell.io", first_name="Sam", last_name="Reed")


def test_a_reseller_deal_names_the_opportunity_and_adds_the_reseller_contact(sdr, qualifying, reseller_lead, ae):
    end_user = AccountFactory(name="Initech")
    result = convert_lead(qualifying, by=sdr, account=end_user, opportunity={"owner": ae},
                          reseller={"lead": reseller_lead, "account": None, "new_account": {"name": "Resell Co"}})

    opportunity = Opportunity.objects.get()
    assert opportunity.name == "Initech via Resell Co"
    assert (opportunity.account, opportunity.primary_contact, opportunity.lead) == (end_user, result.contact,
                                                                                    qualifying)
    reseller_account = Account.objects.get(name="Resell Co")
    assert (reseller_account.type, reseller_account.owner) == (AccountType.RESELLER, ae)
    assert (opportunity.reseller_account, opportunity.reseller_contact) == (reseller_account,
                                                                            result.reseller_contact)
    reseller_contact = Contact.objects.get(pk=result.reseller_contact.pk)
    assert (reseller_contact.role, reseller_contact.owner, reseller_contact.account, reseller_contact.email) == (
        Contact.Role.RESELLER, ae, reseller_account, "sam@resell.io")
    reseller_lead.refresh_from_db()
    assert (reseller_lead.status, reseller_lead.converted_to) == (Status.QUALIFIED, reseller_contact)
    # The reseller's side has no opportunity of its own.
    assert Opportunity.objects.count() == 1
    assert not Opportunity.objects.filter(lead=reseller_lead).exists()


def test_the_reseller_account_defaults_to_the_reseller_leads_matched_account(sdr, qualifying, reseller_lead, ae):
    partner = AccountFactory(name="Partner Inc", type=AccountType.RESELLER)
    Lead.objects.filter(pk=reseller_lead.pk).update(account=partner)
    reseller_lead.refresh_from_db()
    result = convert_lead(qualifying, by=sdr, new_account={"name": "Initech"}, opportunity={"owner": ae},
                          reseller={"lead": reseller_lead})
    assert result.reseller_contact.account == partner
    assert result.opportunity.name == "Initech via Partner Inc"


def test_an_existing_reseller_contact_is_taken_over_by_the_deals_owner(sdr, qualifying, reseller_lead, ae):
    partner = AccountFactory(name="Partner Inc", type=AccountType.RESELLER)
    existing = ContactFactory(account=partner, email="sam@resell.io", owner=sdr)
    result = convert_lead(qualifying, by=sdr, new_account={"name": "Initech"}, opportunity={"owner": ae},
                          reseller={"lead": reseller_lead, "account": partner})
    existing.refresh_from_db()
    assert result.reseller_contact.pk == existing.pk
    assert (existing.owner, existing.role) == (ae, Contact.Role.RESELLER)


@pytest.mark.parametrize("case", ["same lead", "converted", "closed", "no opportunity", "same account"])
def test_reseller_refusals_leave_nothing_behind(sdr, qualifying, reseller_lead, ae, case):
    end_user = AccountFactory(name="Initech")
    reseller = {"lead": reseller_lead, "new_account": {"name": "Resell Co"}}
    opportunity: dict | None = {"owner": ae}
    if case == "same lead":
        reseller["lead"] = qualifying
    elif case == "converted":
        convert_lead(reseller_lead, by=sdr, account=AccountFactory(type=AccountType.CUSTOMER))
        reseller_lead.refresh_from_db()
    elif case == "closed":
        Lead.objects.filter(pk=reseller_lead.pk).update(status=Status.BAD_DATA)
        reseller_lead.refresh_from_db()
    elif case == "no opportunity":
        opportunity = None
    else:
        reseller = {"lead": reseller_lead, "account": end_user}
    contacts = Contact.objects.count()

    with pytest.raises(Refused) as refused:
        convert_lead(qualifying, by=sdr, account=end_user, opportunity=opportunity, reseller=reseller)

    assert refused.value.field in {"reseller", "opportunity"}
    unchanged(qualifying)
    assert Contact.objects.count() == contacts
    assert not Opportunity.objects.exists() and not Account.objects.filter(name="Resell Co").exists()


# --- Routing rule 2 goes through the same conversion -----------------------------------------


def test_routing_rule_2_still_converts_an_smb_lead_at_a_customer(ae):
    customer = accounts.save_account(Account(), {"name": "Cust", "domain": "cust.com", "employee_count": 20,
                                                  "type": "customer", "owner": ae})
    existing = ContactFactory(account=customer, email="c@cust.com", owner=ae, title="")

    lead = services.ingest_lead({"email": "c@cust.com", "last_name": "Cee", "initial_source": "webcast",
                                 "title": "Director", "country": "US"}, by=None).lead

    # The ingest's own answer already shows the conversion (speed to lead).
    assert (lead.status, lead.converted_to_id, lead.owner_id, lead.queue) == (Status.QUALIFIED, existing.pk,
                                                                              ae.pk, None)
    lead.refresh_from_db()
    assert (lead.status, lead.converted_to, lead.owner) == (Status.QUALIFIED, existing, ae)
    assert StatusChange.objects.get(lead=lead, new=Status.QUALIFIED).cause == Cause.ROUTING
    existing.refresh_from_db()
    assert existing.title == "Director" and existing.score_entries.exists()


def test_convert_into_account_gives_an_unowned_queued_lead_to_the_owner(ae):
    lead = LeadFactory(status=Status.MQL, queue=Queue.objects.get(name=Queue.UNASSIGNED))
    customer = AccountFactory(type=AccountType.CUSTOMER, owner=ae)
    contact = routing_services.convert_into_account(lead, customer, owner_id=ae.pk, cause=Cause.ROUTING)
    lead.refresh_from_db()
    assert (contact.owner, lead.owner, lead.queue) == (ae, ae, None)


# --- The lead page's Convert card ------------------------------------------------------------


def test_the_lead_page_offers_the_form_with_the_sellers_to_who_may_convert(client, sdr, qualifying, ae):
    client.force_login(sdr)
    page = client.get(f"/leads/{qualifying.pk}/").content.decode()
    assert f'action="/leads/{qualifying.pk}/convert/"' in page
    assert f'<option value="{ae.pk}">Alice Seller (AE)</option>' in page
    assert 'value="initech.com"' in page  # the new account's domain, suggested from the email


def test_a_teammate_who_may_only_read_gets_no_form_and_cannot_post(client, sdr, teammate, qualifying):
    client.force_login(teammate)
    page = client.get(f"/leads/{qualifying.pk}/").content.decode()
    assert "You can read this lead but not convert it." in page and "/convert/" not in page

    response = client.post(f"/leads/{qualifying.pk}/convert/", {"account_choice": "new", "new_name": "Initech"},
                           follow=True)
    assert "You may read this lead but not change it." in response.content.decode()
    unchanged(qualifying)


def test_another_sdrs_lead_cannot_be_converted_from_the_page(client, other_sdr, qualifying):
    client.force_login(other_sdr)
    response = client.post(f"/leads/{qualifying.pk}/convert/", {"account_choice": "new", "new_name": "Initech"})
    assert response.status_code == 404
    unchanged(qualifying)


def test_the_form_converts_into_a_new_account_with_an_opportunity(client, sdr, qualifying, ae):
    client.force_login(sdr)
    response = client.post(f"/leads/{qualifying.pk}/convert/", {
        "account_choice": "new", "new_name": "Initech", "new_domain": "initech.com",
        "opportunity_owner": ae.pk, "iacv": "15000"}, follow=True)

    page = response.content.decode()
    assert "Converted to Pat Lee at Initech; opportunity “Initech - New business” is pending acceptance." in page
    lead = Lead.objects.get(pk=qualifying.pk)
    account = Account.objects.get(name="Initech")
    assert lead.converted_to.account == account
    opportunity = Opportunity.objects.get(lead=lead)
    assert (opportunity.owner, opportunity.iacv, opportunity.sdr) == (ae, Decimal("15000"), sdr)
    # The card now tells where the lead went, with the account page one click away.
    assert f'Converted to <strong>Pat Lee</strong> at <a href="/accounts/{account.pk}/">Initech</a>' in page
    assert f'href="/opportunities/{opportunity.pk}/"' in page


def test_the_form_converts_into_another_account_by_id(client, sdr, qualifying):
    target = AccountFactory(name="Target Co")
    client.force_login(sdr)
    client.post(f"/leads/{qualifying.pk}/convert/", {"account_choice": "existing", "account_id": target.pk})
    assert Lead.objects.get(pk=qualifying.pk).converted_to.account == target


def test_the_form_converts_a_reseller_deal(client, sdr, qualifying, reseller_lead, ae):
    client.force_login(sdr)
    client.post(f"/leads/{qualifying.pk}/convert/", {
        "account_choice": "new", "new_name": "Initech", "opportunity_owner": ae.pk,
        "reseller_lead": reseller_lead.pk, "reseller_new_name": "Resell Co"})
    opportunity = Opportunity.objects.get()
    assert opportunity.name == "Initech via Resell Co"
    assert opportunity.reseller_contact.role == Contact.Role.RESELLER


def test_the_form_shows_the_refusal_and_changes_nothing(client, sdr):
    lead = LeadFactory(owner=sdr, status=Status.MQL)
    client.force_login(sdr)
    response = client.post(f"/leads/{lead.pk}/convert/", {"account_choice": "new", "new_name": "Initech"},
                           follow=True)
    assert "This lead is MQL: it must be Qualifying to be converted" in response.content.decode()
    unchanged(lead)
    assert not Account.objects.exists()


@pytest.mark.parametrize(("form", "message"), [
    ({"account_choice": "existing", "account_id": "999999"}, "No account with id 999999 that you may see."),
    ({"account_choice": "existing", "account_id": str(10**20)}, "Account: Ensure this value is less than"),
    ({"account_choice": "new"}, "New account name: Give the new account&#x27;s name."),
    ({"account_choice": "matched"}, "This lead matches no account"),
    ({"account_choice": "sideways"}, "Account: Select a valid choice."),
    ({"account_choice": "new", "new_name": "X", "opportunity_owner": "abc"}, "Opportunity owner: Select a valid"),
    ({"account_choice": "new", "new_name": "X", "reseller_new_name": "R"}, "Give the reseller&#x27;s lead too."),
])
def test_bad_form_input_is_told_not_converted(client, sdr, qualifying, form, message):
    client.force_login(sdr)
    response = client.post(f"/leads/{qualifying.pk}/convert/", form, follow=True)
    assert response.status_code == 200
    assert message in response.content.decode()
    unchanged(qualifying)


def test_a_reseller_lead_of_someone_else_is_refused_on_the_form(client, sdr, other_sdr, qualifying, ae):
    theirs = LeadFactory(owner=other_sdr, status=Status.MQL)
    client.force_login(sdr)
    response = client.post(f"/leads/{qualifying.pk}/convert/", {
        "account_choice": "new", "new_name": "Initech", "opportunity_owner": ae.pk, "reseller_lead": theirs.pk},
        follow=True)
    assert f"No lead with id {theirs.pk} that you may change." in response.content.decode()
    unchanged(theirs)


def test_a_closed_lead_shows_no_form(client, sdr):
    lead = LeadFactory(owner=sdr, status=Status.BAD_DATA)
    client.force_login(sdr)
    page = client.get(f"/leads/{lead.pk}/").content.decode()
    assert "A Bad Data lead is not converted." in page and "/convert/" not in page


def test_the_converted_card_shows_only_an_opportunity_the_user_may_see(client, sdr, qualifying, ae):
    result = convert_lead(qualifying, by=None, new_account={"name": "Initech"},
                          opportunity={"owner": ae, "sdr": None})
    client.force_login(sdr)  # neither owner nor credited
    page = client.get(f"/leads/{qualifying.pk}/").content.decode()
    assert "Converted to <strong>Pat Lee</strong>" in page
    assert f"/opportunities/{result.opportunity.pk}/" not in page and result.opportunity.name not in page


def test_a_converted_leads_page_says_where_it_went_and_offers_no_action(client, sdr, qualifying, ae):
    result = convert_lead(qualifying, by=sdr, new_account={"name": "Initech"},
                          opportunity={"owner": ae, "sdr": sdr})
    client.force_login(sdr)  # its owner, who could change it before

    page = client.get(f"/leads/{qualifying.pk}/").content.decode()

    banner = page[page.index('id="converted"'):page.index("</div>", page.index('id="converted"'))]
    assert f'<a href="/contacts/{result.contact.pk}/">Pat Lee</a>' in banner
    assert f'<a href="/accounts/{result.contact.account_id}/">Initech</a>' in banner
    assert f'<a href="/opportunities/{result.opportunity.pk}/">{result.opportunity.name}</a>' in banner
    for action in ("/status/", "/spam/", "/convert/", "/merge/", "/enroll/", "Mark as spam", "Book IQM", ">Enrol<"):
        assert action not in page, action
    assert "Converted: enrol the contact instead." in page
    assert "You can read this lead" not in page  # not a matter of rights: nobody may change it


def test_converting_a_converted_lead_again_lands_on_its_page_and_changes_nothing(client, sdr, qualifying):
    convert_lead(qualifying, by=sdr, new_account={"name": "Initech"})
    contacts = Contact.objects.count()
    client.force_login(sdr)

    response = client.post(f"/leads/{qualifying.pk}/convert/", {"account_choice": "new", "new_name": "Other"},
                           follow=True)

    assert response.redirect_chain == [(f"/leads/{qualifying.pk}/", 302)]
    page = response.content.decode()
    assert "Pat Lee was already converted." in page and 'id="converted"' in page
    assert Contact.objects.count() == contacts and not Account.objects.filter(name="Other").exists()


def test_a_leads_tasks_follow_it_to_its_contact(sdr, qualifying):
    from leads.models import Task

    task = Task.objects.create(owner=sdr, title="Send the deck", due_at=timezone.now(), lead=qualifying)
    contact = convert_lead(qualifying, by=sdr, new_account={"name": "Initech"}).contact
    task.refresh_from_db()
    assert (task.lead_id, task.contact_id) == (None, contact.pk)
