"""IQMs (docs/rules.md §4): the booking and update rules (opportunities/iqms.py) and the lead page's
IQM card (opportunities/iqm_views.py)."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from leads.models import Lead
from opportunities.iqms import book_iqm, update_iqm
from opportunities.models import IQM, ActivitySource, Disposition
from sdrcrm.errors import Refused
from sdrcrm.models import Role
from tests.conftest import lead_page
from tests.factories import (
    AccountFactory,
    ContactFactory,
    IQMFactory,
    LeadFactory,
    OpportunityFactory,
    SequenceFactory,
    UserFactory,
)

pytestmark = pytest.mark.django_db

NOW = datetime(2026, 12, 1, 15, 0, tzinfo=UTC)
HOUR = timedelta(hours=1)


def when(hours: float = 24, length: float = 0.5) -> dict:
    """A meeting `hours` after NOW lasting `length` hours."""
    return {"start": NOW + hours * HOUR, "end": NOW + (hours + length) * HOUR}


def book(person, by, **data) -> IQM:
    return book_iqm(person, {**when(), **data}, by=by, now=NOW)


def refused(call, field: str | None = None) -> str:
    with pytest.raises(Refused) as caught:
        call()
    if field is not None:
        assert caught.value.field == field
    return caught.value.message


def sao(account=None, **fields):
    return OpportunityFactory(account=account or AccountFactory(), sales_accepted_date=date(2026, 11, 20),
                              stage="discovery", **fields)


# --- Booking ---------------------------------------------------------------------------------


def test_the_subject_is_the_persons_full_name_and_iqm(sdr):
    lead = LeadFactory(owner=sdr, first_name="Ada", last_name="Lovelace")
    contact = ContactFactory(owner=sdr, first_name="Grace", last_name="Hopper")

    assert book(lead, sdr).subject == "Ada Lovelace - IQM"
    assert book(contact, sdr).subject == "Grace Hopper - IQM"


def test_booking_stores_what_was_given_and_who_booked_it(sdr):
    lead, sequence = LeadFactory(owner=sdr), SequenceFactory()

    iqm = book(lead, sdr, location="Zoom", activity_source=ActivitySource.OUTBOUND, sequence=sequence,
               description="Wants CI for 40 devs")

    stored = IQM.objects.get()
    assert stored.pk == iqm.pk
    assert (stored.lead, stored.contact, stored.booked_by, stored.sdr) == (lead, None, sdr, sdr)
    assert (stored.start, stored.end) == (NOW + 24 * HOUR, NOW + 24.5 * HOUR)
    assert (stored.location, stored.activity_source, stored.sequence) == ("Zoom", "outbound", sequence)
    assert (stored.description, stored.disposition) == ("Wants CI for 40 devs", Disposition.SCHEDULED)


def test_a_contacts_iqm_is_on_the_contacts_account(sdr):
    account = AccountFactory()
    iqm = book(ContactFactory(owner=sdr, account=account), sdr)
    assert (iqm.contact.account, iqm.account, iqm.lead) == (account, account, None)


def test_a_leads_iqm_is_on_its_matched_account(sdr):
    account = AccountFactory()
    assert book(LeadFactory(owner=sdr, account=account), sdr).account == account


def test_an_unmatched_lead_takes_the_given_account_or_the_opportunitys(sdr):
    given, opp_account = AccountFactory(), AccountFactory()

    assert book(LeadFactory(owner=sdr), sdr, account=given).account == given
    assert book(LeadFactory(owner=sdr), sdr, opportunity=OpportunityFactory(account=opp_account)).account \
        == opp_account
    assert book(LeadFactory(owner=sdr), sdr).account is None


def test_a_contact_cannot_meet_on_another_account(sdr):
    contact = ContactFactory(owner=sdr, account=AccountFactory())

    message = refused(lambda: book(contact, sdr, account=AccountFactory()), field="account")

    assert "contact's account" in message
    assert not IQM.objects.exists()


def test_an_opportunity_of_another_account_is_refused(sdr):
    lead = LeadFactory(owner=sdr, account=AccountFactory(name="Acme"))
    other = OpportunityFactory(name="Globex - New", account=AccountFactory(name="Globex"))

    message = refused(lambda: book(lead, sdr, opportunity=other), field="opportunity")

    assert message == "The opportunity Globex - New is not on the IQM's account (Acme)."
    assert not IQM.objects.exists()


def test_an_opportunity_of_the_same_account_is_linked(sdr):
    account = AccountFactory()
    opportunity = OpportunityFactory(account=account)
    assert book(LeadFactory(owner=sdr, account=account), sdr, opportunity=opportunity).opportunity == opportunity


def test_a_converted_lead_is_met_as_its_contact(sdr):
    contact = ContactFactory(owner=sdr)
    lead = LeadFactory(owner=sdr, converted_to=contact, first_name="Ada", last_name="Lovelace")

    message = refused(lambda: book(lead, sdr), field="lead")

    assert message == "Ada Lovelace was converted to a contact: book the IQM on the contact."


@pytest.mark.parametrize("role", [Role.SDR, Role.BDR])
def test_the_sdr_defaults_to_the_booking_sdr_or_bdr(role):
    prospector = UserFactory(role=role)
    assert book(LeadFactory(owner=prospector), prospector).sdr == prospector


def test_a_booker_who_is_no_sdr_must_name_one(manager, sdr):
    lead = LeadFactory(owner=sdr)

    message = refused(lambda: book(lead, manager), field="sdr")

    assert message == "Pick the SDR or BDR the IQM is assigned to."
    iqm = book(lead, manager, sdr=sdr)
    assert (iqm.sdr, iqm.booked_by) == (sdr, manager)


@pytest.mark.parametrize("assignee", [{"role": Role.AE}, {"role": Role.SDR_MANAGER}, {"is_active": False}])
def test_the_iqm_is_assigned_only_to_an_active_sdr_or_bdr(sdr, assignee):
    other = UserFactory(**{"role": Role.SDR, **assignee})

    message = refused(lambda: book(LeadFactory(owner=sdr), sdr, sdr=other), field="sdr")

    assert "is not an active SDR or BDR" in message


@pytest.mark.parametrize("length", [0, -1])
def test_the_end_must_come_after_the_start(sdr, length):
    message = refused(lambda: book(LeadFactory(owner=sdr), sdr, **when(length=length)), field="end")
    assert message == "The IQM must end after it starts."
    assert not IQM.objects.exists()


def test_a_meeting_longer_than_a_day_is_refused(sdr):
    assert "at most 24 hours" in refused(lambda: book(LeadFactory(owner=sdr), sdr, **when(length=25)), field="end")


def test_a_start_years_away_is_taken_for_a_typo(sdr):
    lead = LeadFactory(owner=sdr)
    refused(lambda: book(lead, sdr, **when(hours=3 * 366 * 24)), field="start")
    refused(lambda: book(lead, sdr, **when(hours=-11 * 366 * 24)), field="start")
    assert book(lead, sdr, **when(hours=-30 * 24)).start == NOW - 30 * 24 * HOUR  # logging a past meeting


def test_start_and_end_are_required(sdr):
    refused(lambda: book_iqm(LeadFactory(owner=sdr), {"start": NOW}, by=sdr, now=NOW), field="end")


def test_unknown_fields_are_refused_not_dropped(sdr):
    refused(lambda: book(LeadFactory(owner=sdr), sdr, subject="Lunch"), field="subject")


# --- Disposition SAO -------------------------------------------------------------------------


def test_sao_needs_a_linked_opportunity(sdr):
    message = refused(lambda: book(LeadFactory(owner=sdr), sdr, disposition=Disposition.SAO), field="disposition")
    assert message == "Disposition SAO needs a linked opportunity that is an SAO (accepted into 1-Discovery)."


def test_sao_needs_the_opportunity_to_be_an_sao(sdr):
    account = AccountFactory()
    stage_zero = OpportunityFactory(account=account)

    refused(lambda: book(LeadFactory(owner=sdr, account=account), sdr, disposition=Disposition.SAO,
                         opportunity=stage_zero), field="disposition")
    assert not IQM.objects.exists()


def test_sao_with_an_sao_opportunity_is_booked(sdr):
    opportunity = sao()
    iqm = book(LeadFactory(owner=sdr, account=opportunity.account), sdr, disposition=Disposition.SAO,
               opportunity=opportunity)
    assert IQM.objects.get(pk=iqm.pk).disposition == Disposition.SAO


def test_updating_to_sao_needs_an_sao_opportunity(sdr):
    account = AccountFactory()
    iqm = book(LeadFactory(owner=sdr, account=account), sdr, opportunity=OpportunityFactory(account=account))

    refused(lambda: update_iqm(iqm, {"disposition": Disposition.SAO}, now=NOW), field="disposition")
    assert IQM.objects.get(pk=iqm.pk).disposition == Disposition.SCHEDULED

    accepted = sao(account=account)
    update_iqm(iqm, {"disposition": Disposition.SAO, "opportunity": accepted}, now=NOW)
    assert IQM.objects.filter(pk=iqm.pk).values_list("disposition", "opportunity").get() == ("sao", accepted.pk)


def test_unlinking_the_opportunity_of_an_sao_iqm_is_refused(sdr):
    opportunity = sao()
    iqm = book(LeadFactory(owner=sdr, account=opportunity.account), sdr, disposition=Disposition.SAO,
               opportunity=opportunity)

    refused(lambda: update_iqm(iqm, {"opportunity": None}, now=NOW), field="disposition")

    assert IQM.objects.get(pk=iqm.pk).opportunity == opportunity


# --- Updates ---------------------------------------------------------------------------------


def test_an_update_changes_times_notes_and_disposition(sdr):
    iqm = book(LeadFactory(owner=sdr), sdr)

    update_iqm(iqm, {**when(hours=48, length=1), "description": "Rescheduled by the prospect",
                     "disposition": Disposition.RESCHEDULED}, now=NOW)

    stored = IQM.objects.get(pk=iqm.pk)
    assert (stored.start, stored.end) == (NOW + 48 * HOUR, NOW + 49 * HOUR)
    assert (stored.description, stored.disposition) == ("Rescheduled by the prospect", "rescheduled")


def test_an_update_recomputes_the_subject_from_the_person(sdr):
    lead = LeadFactory(owner=sdr, first_name="Ada", last_name="Byron")
    iqm = book(lead, sdr)
    Lead.objects.filter(pk=lead.pk).update(last_name="Lovelace")

    update_iqm(iqm, {"location": "Room 2"}, now=NOW)

    assert IQM.objects.get(pk=iqm.pk).subject == "Ada Lovelace - IQM"


def test_the_subject_and_the_person_cannot_be_written(sdr):
    iqm = book(LeadFactory(owner=sdr), sdr)
    refused(lambda: update_iqm(iqm, {"subject": "Lunch"}, now=NOW), field="subject")
    refused(lambda: update_iqm(iqm, {"lead": LeadFactory()}, now=NOW), field="lead")


def test_an_update_checks_the_times_together(sdr):
    iqm = book(LeadFactory(owner=sdr), sdr)
    refused(lambda: update_iqm(iqm, {"end": iqm.start - HOUR}, now=NOW), field="end")
    refused(lambda: update_iqm(iqm, {"start": None}, now=NOW), field="start")


def test_an_update_to_an_opportunity_of_another_account_is_refused(sdr):
    iqm = book(LeadFactory(owner=sdr, account=AccountFactory()), sdr)
    refused(lambda: update_iqm(iqm, {"opportunity": OpportunityFactory()}, now=NOW), field="opportunity")


def test_notes_on_a_meeting_whose_sdr_has_left_still_save(sdr):
    iqm = book(LeadFactory(owner=sdr), sdr)
    sdr.is_active = False
    sdr.save()

    update_iqm(iqm, {"description": "Follow-up sent"}, now=NOW)

    assert IQM.objects.get(pk=iqm.pk).description == "Follow-up sent"


# --- The lead page's IQM card ----------------------------------------------------------------

BOOKING = {"start": "2026-12-02T10:00", "end": "2026-12-02T10:30", "location": "Zoom",
           "activity_source": "outbound", "description": "Discovery call"}


def book_url(lead) -> str:
    return f"/opportunities/iqms/lead/{lead.pk}/book/"


def disposition_url(iqm) -> str:
    return f"/opportunities/iqms/{iqm.pk}/disposition/"


def test_the_lead_page_lists_the_leads_iqms(client, sdr):
    sdr.first_name, sdr.last_name = "Sam", "Dee"
    sdr.save()
    opportunity = OpportunityFactory(name="Acme - New")
    lead = LeadFactory(owner=sdr, first_name="Ada", last_name="Lovelace")
    IQMFactory(lead=lead, sdr=sdr, start=NOW, end=NOW + HOUR, disposition=Disposition.NO_SHOW,
               opportunity=opportunity)
    IQMFactory(lead=LeadFactory(owner=sdr, first_name="Other", last_name="Person"), sdr=sdr)
    client.force_login(sdr)

    page = lead_page(client, lead)

    assert "Ada Lovelace - IQM" in page and "2026-12-01 10:00" in page and "Sam Dee" in page  # 15:00 UTC, New York
    assert "No show" in page
    assert f'<a href="/opportunities/{opportunity.pk}/">Acme - New</a>' in page
    assert "Other Person - IQM" not in page


def test_the_booking_form_books_an_iqm(client, sdr):
    lead = LeadFactory(owner=sdr, first_name="Ada", last_name="Lovelace")
    client.force_login(sdr)
    assert f'action="{book_url(lead)}"' in lead_page(client, lead)

    response = client.post(book_url(lead), BOOKING, follow=True)

    assert response.redirect_chain[-1][0] == f"/leads/{lead.pk}/"
    assert "Booked Ada Lovelace - IQM on 2026-12-02 10:00 EST" in response.content.decode()
    iqm = IQM.objects.get()
    assert (iqm.lead, iqm.sdr, iqm.booked_by) == (lead, sdr, sdr)
    assert iqm.start == datetime(2026, 12, 2, 15, 0, tzinfo=UTC)  # typed as the AMER SDR's New York time
    assert (iqm.location, iqm.activity_source, iqm.description) == ("Zoom", "outbound", "Discovery call")


def test_a_refused_booking_shows_the_reason_and_writes_nothing(client, sdr):
    lead = LeadFactory(owner=sdr)
    client.force_login(sdr)

    response = client.post(book_url(lead), {**BOOKING, "end": "2026-12-02T09:00"}, follow=True)

    assert "The IQM must end after it starts." in response.content.decode()
    assert not IQM.objects.exists()


def test_a_malformed_booking_says_which_field(client, sdr):
    lead = LeadFactory(owner=sdr)
    client.force_login(sdr)

    response = client.post(book_url(lead), {**BOOKING, "start": "tomorrow"}, follow=True)

    assert "Start: Enter a valid date/time." in response.content.decode()
    assert not IQM.objects.exists()


def test_a_manager_picks_the_sdr_on_the_booking_form(client, sdr, manager):
    lead = LeadFactory(owner=sdr)
    client.force_login(manager)
    assert 'name="sdr"' in lead_page(client, lead)

    refusal = client.post(book_url(lead), BOOKING, follow=True).content.decode()
    client.post(book_url(lead), {**BOOKING, "sdr": sdr.pk})

    assert "Pick the SDR or BDR the IQM is assigned to." in refusal
    assert IQM.objects.values_list("sdr", "booked_by").get() == (sdr.pk, manager.pk)


def test_a_seller_who_owns_the_lead_picks_the_sdr_on_the_booking_form(client, sdr):
    seller = UserFactory(role=Role.AE)
    lead = LeadFactory(owner=seller)
    client.force_login(seller)
    assert 'name="sdr"' in lead_page(client, lead)

    client.post(book_url(lead), {**BOOKING, "sdr": sdr.pk})

    assert IQM.objects.values_list("sdr", "booked_by").get() == (sdr.pk, seller.pk)


def test_a_read_only_teammate_gets_no_form_and_cannot_book(client, sdr, teammate):
    lead = LeadFactory(owner=teammate)
    client.force_login(sdr)

    assert book_url(lead) not in lead_page(client, lead)
    response = client.post(book_url(lead), BOOKING, follow=True)

    assert "You may read this lead but not book an IQM with them." in response.content.decode()
    assert not IQM.objects.exists()


def test_another_teams_lead_is_not_found(client, sdr, other_sdr):
    client.force_login(other_sdr)
    assert client.post(book_url(LeadFactory(owner=sdr)), BOOKING).status_code == 404
    assert not IQM.objects.exists()


def test_booking_needs_a_login_and_a_post(client, sdr):
    lead = LeadFactory(owner=sdr)
    assert client.post(book_url(lead), BOOKING).url.startswith("/login/")
    client.force_login(sdr)
    assert client.get(book_url(lead)).status_code == 405
    assert not IQM.objects.exists()


def test_the_disposition_form_changes_the_disposition(client, sdr):
    lead = LeadFactory(owner=sdr)
    iqm = IQMFactory(lead=lead, sdr=sdr)
    client.force_login(sdr)
    assert f'action="{disposition_url(iqm)}"' in lead_page(client, lead)

    response = client.post(disposition_url(iqm), {"disposition": "no_show", "opportunity": ""}, follow=True)

    assert response.redirect_chain[-1][0] == f"/leads/{lead.pk}/"
    assert f"{iqm.subject}: No show." in response.content.decode()
    assert IQM.objects.get(pk=iqm.pk).disposition == Disposition.NO_SHOW


def test_the_disposition_form_links_an_sao_opportunity_for_sao(client, sdr):
    opportunity = sao(sdr=None)
    lead = LeadFactory(owner=sdr, account=opportunity.account)
    iqm = IQMFactory(lead=lead, sdr=sdr)
    stage_zero = OpportunityFactory(account=opportunity.account, sdr=sdr)
    client.force_login(sdr)

    refusal = client.post(disposition_url(iqm), {"disposition": "sao", "opportunity": stage_zero.pk},
                          follow=True).content.decode()
    client.post(disposition_url(iqm), {"disposition": "sao", "opportunity": ""})
    assert "Disposition SAO needs a linked opportunity that is an SAO" in refusal
    assert IQM.objects.get(pk=iqm.pk).disposition == Disposition.SCHEDULED

    opportunity.sdr = sdr  # now the SDR sees it
    opportunity.save()
    client.post(disposition_url(iqm), {"disposition": "sao", "opportunity": opportunity.pk})
    assert IQM.objects.filter(pk=iqm.pk).values_list("disposition", "opportunity").get() == ("sao", opportunity.pk)


def test_the_disposition_form_refuses_an_opportunity_the_user_cannot_see(client, sdr):
    iqm = IQMFactory(lead=LeadFactory(owner=sdr), sdr=sdr)
    hidden = OpportunityFactory()
    client.force_login(sdr)

    response = client.post(disposition_url(iqm), {"disposition": "scheduled", "opportunity": hidden.pk},
                           follow=True)

    assert "That opportunity is not one you can see." in response.content.decode()
    assert IQM.objects.get(pk=iqm.pk).opportunity is None


def test_someone_elses_iqm_is_not_found_on_the_disposition_form(client, sdr, other_sdr):
    iqm = IQMFactory(lead=LeadFactory(owner=sdr), sdr=sdr)
    client.force_login(other_sdr)

    assert client.post(disposition_url(iqm), {"disposition": "no_show"}).status_code == 404
    assert IQM.objects.get(pk=iqm.pk).disposition == Disposition.SCHEDULED


def test_a_bad_disposition_is_refused_with_a_message(client, sdr):
    iqm = IQMFactory(lead=LeadFactory(owner=sdr), sdr=sdr)
    client.force_login(sdr)

    response = client.post(disposition_url(iqm), {"disposition": "maybe"}, follow=True)

    assert "Disposition: Select a valid choice." in response.content.decode()
    assert IQM.objects.get(pk=iqm.pk).disposition == Disposition.SCHEDULED


def test_the_iqm_card_queries_do_not_grow_with_iqms(client, sdr):
    account = AccountFactory()
    lead = LeadFactory(owner=sdr, account=account)
    client.force_login(sdr)

    def queries() -> int:
        with CaptureQueriesContext(connection) as captured:
            lead_page(client, lead)
        return len(captured)

    IQMFactory.create_batch(2, lead=lead, sdr=sdr, opportunity=OpportunityFactory(account=account, sdr=sdr))
    few = queries()
    IQMFactory.create_batch(12, lead=lead, sdr=sdr, opportunity=OpportunityFactory(account=account, sdr=sdr))
    assert queries() == few
