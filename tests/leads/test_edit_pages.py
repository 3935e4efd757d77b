"""Editing a lead's or contact's details from its page, through update_person: the same
checks as the API, a field-history row per change, refusals in words."""

from __future__ import annotations

import pytest

from leads.conversion import convert_lead
from leads.models import Contact, Lead, Status
from sdrcrm import field_history
from tests.conftest import lead_page
from tests.factories import ContactFactory, LeadFactory

pytestmark = pytest.mark.django_db


def fields_of(person) -> dict[str, object]:
    return {"first_name": person.first_name, "last_name": person.last_name, "email": person.email,
            "title": person.title, "phone": person.phone, "company": person.company, "city": person.city,
            "state": person.state, "country": person.country, "employee_count": person.employee_count or "",
            "industry": person.industry}


def edit(client, lead, **changes):
    return client.post(f"/leads/{lead.pk}/edit/", {**fields_of(lead), **changes}, follow=True)


def test_an_sdr_edits_the_phone_and_the_history_says_who_and_what(client, sdr):
    lead = LeadFactory(owner=sdr, phone="+1 415 555 0100")
    client.force_login(sdr)

    page = edit(client, lead, phone="+1 415 555 0199").content.decode()

    assert "Saved: phone." in page
    assert Lead.objects.get(pk=lead.pk).phone == "+1 415 555 0199"
    change = field_history.changes_of(lead).get()
    assert (change.field, change.old, change.new, change.by) == ("phone", "+1 415 555 0100", "+1 415 555 0199", sdr)


def test_names_are_capitalised_as_the_api_does(client, sdr):
    lead = LeadFactory(owner=sdr)
    client.force_login(sdr)
    edit(client, lead, first_name="ada", last_name="lovelace")
    lead.refresh_from_db()
    assert (lead.first_name, lead.last_name) == ("Ada", "Lovelace")


def test_an_email_another_lead_has_is_refused_in_words(client, sdr):
    other = LeadFactory(email="taken@acme.com")
    lead = LeadFactory(owner=sdr, email="mine@acme.com")
    client.force_login(sdr)

    page = edit(client, lead, email=other.email).content.decode()

    assert "Not saved. Another lead already has the email taken@acme.com." in page
    assert Lead.objects.get(pk=lead.pk).email == "mine@acme.com"


@pytest.mark.parametrize(("changes", "message"), [
    ({"country": "USA"}, "Country (ISO code): Ensure this value has at most 2 characters (it has 3)."),
    ({"last_name": ""}, "Last name: This field is required."),
    ({"email": ""}, "Email: This field is required."),
    ({"email": "not-an-email"}, "Email: Enter a valid email address."),
    ({"employee_count": "-3"}, "Employees: Ensure this value is greater than or equal to 0."),
])
def test_bad_input_is_told_and_nothing_is_saved(client, sdr, changes, message):
    lead = LeadFactory(owner=sdr, country="US")
    client.force_login(sdr)

    page = edit(client, lead, **changes).content.decode()

    assert f"Not saved. {message}" in page
    assert not field_history.changes_of(lead).exists()


def test_saving_what_is_there_changes_nothing(client, sdr):
    lead = LeadFactory(owner=sdr)
    client.force_login(sdr)
    assert "Nothing changed." in edit(client, lead).content.decode()
    assert not field_history.changes_of(lead).exists()


def test_a_reader_gets_no_form_and_cannot_post(client, sdr, teammate):
    lead = LeadFactory(owner=sdr, phone="1")
    client.force_login(teammate)

    assert 'id="edit"' not in lead_page(client, lead)
    assert "You may read this lead but not change it." in edit(client, lead, phone="2").content.decode()
    assert Lead.objects.get(pk=lead.pk).phone == "1"


def test_another_teams_lead_is_not_found(client, sdr, other_sdr):
    lead = LeadFactory(owner=other_sdr)
    client.force_login(sdr)
    assert client.post(f"/leads/{lead.pk}/edit/", fields_of(lead)).status_code == 404


def test_a_converted_lead_is_edited_on_its_contact(client, sdr):
    lead = LeadFactory(owner=sdr, status=Status.QUALIFYING, phone="1")
    convert_lead(lead, by=sdr, new_account={"name": "Initech"})
    lead.refresh_from_db()
    client.force_login(sdr)

    assert 'id="edit"' not in lead_page(client, lead)
    assert "This lead was converted; edit its contact." in edit(client, lead, phone="2").content.decode()
    assert Lead.objects.get(pk=lead.pk).phone == "1"


def test_a_contact_without_an_email_can_be_edited(client, sdr):
    contact = ContactFactory(owner=sdr, email="", phone="1")
    client.force_login(sdr)

    page = client.post(f"/contacts/{contact.pk}/edit/", {**fields_of(contact), "phone": "2"}, follow=True)

    assert "Saved: phone." in page.content.decode()
    assert Contact.objects.get(pk=contact.pk).phone == "2"
