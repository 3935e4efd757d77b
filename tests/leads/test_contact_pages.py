"""Contact pages (/contacts/): the SDR contact views of docs/rules.md §9, a contact's page, and its
status changed by hand through the same rules as a lead's."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from leads.models import Status
from tests.factories import AccountFactory, ActivityFactory, ContactFactory, LeadFactory

pytestmark = pytest.mark.django_db
NOW = timezone.now()


def names(response) -> list[str]:
    return [contact.last_name for contact in response.context["contacts"]]


def test_an_sdr_lists_what_they_may_see_and_works_their_views_oldest_first(client, sdr, teammate, other_sdr):
    ContactFactory(owner=sdr, last_name="Newer", status=Status.MQL, status_changed_at=NOW - timedelta(days=1))
    ContactFactory(owner=sdr, last_name="Older", status=Status.MQL, status_changed_at=NOW - timedelta(days=5))
    ContactFactory(owner=sdr, last_name="Talking", status=Status.QUALIFYING)
    ContactFactory(owner=teammate, last_name="Teammates", status=Status.MQL)
    ContactFactory(owner=other_sdr, last_name="Elsewhere", status=Status.MQL)
    client.force_login(sdr)

    assert set(names(client.get("/contacts/"))) == {"Newer", "Older", "Talking", "Teammates"}
    assert names(client.get("/contacts/", {"view": "my_mql_contacts"})) == ["Older", "Newer"]
    assert names(client.get("/contacts/", {"view": "my_qualifying_contacts"})) == ["Talking"]
    assert names(client.get("/contacts/", {"q": "tal"})) == ["Talking"]
    assert client.get("/contacts/", {"view": "no_such_view"}).status_code == 404


def test_the_list_pages_by_keyset_with_a_bounded_number_of_queries(client, sdr, django_assert_max_num_queries):
    account = AccountFactory()
    for n in range(55):
        ContactFactory(owner=sdr, account=account, last_name=f"C{n:02d}")
    client.force_login(sdr)
    with django_assert_max_num_queries(8):
        first = client.get("/contacts/")
    assert len(names(first)) == 50
    second = client.get("/contacts/", {"cursor": first.context["next_cursor"]})
    assert len(names(second)) == 5 and not set(names(first)) & set(names(second))
    response = client.get("/contacts/", {"cursor": "garbage"}, follow=True)
    assert "out of date" in response.content.decode()


def test_the_contact_page_shows_its_account_history_activities_and_lead(client, sdr):
    account = AccountFactory(name="Initech")
    contact = ContactFactory(owner=sdr, account=account, first_name="Cora", last_name="Contact",
                             status=Status.MQL, email="cora@initech.com")
    lead = LeadFactory(owner=sdr, status=Status.QUALIFIED, converted_to=contact)
    ActivityFactory(lead=None, contact=contact, type="contact_request")
    client.force_login(sdr)

    page = client.get(f"/contacts/{contact.pk}/").content.decode()

    assert "Cora Contact" in page and "cora@initech.com" in page
    assert f'href="/accounts/{account.pk}/">Initech</a>' in page
    assert f'href="/leads/{lead.pk}/">lead {lead.pk}</a>' in page
    assert "Contact request" in page  # the activity


def test_another_teams_contact_is_not_found(client, sdr, other_sdr):
    contact = ContactFactory(owner=other_sdr)
    client.force_login(sdr)
    assert client.get(f"/contacts/{contact.pk}/").status_code == 404
    assert client.post(f"/contacts/{contact.pk}/status/", {"status": Status.ACCEPTED}).status_code == 404


def test_the_owner_moves_the_status_and_the_history_says_so(client, sdr):
    contact = ContactFactory(owner=sdr, status=Status.MQL)
    client.force_login(sdr)

    response = client.post(f"/contacts/{contact.pk}/status/", {"status": Status.ACCEPTED}, follow=True)

    contact.refresh_from_db()
    assert contact.status == Status.ACCEPTED
    assert "Status is now Accepted" in response.content.decode()
    change = contact.status_changes.get()
    assert (change.old, change.new, change.by) == (Status.MQL, Status.ACCEPTED, sdr)


def test_refused_moves_and_read_only_contacts_change_nothing(client, sdr, teammate):
    mine = ContactFactory(owner=sdr, status=Status.MQL)
    theirs = ContactFactory(owner=teammate, status=Status.MQL)
    client.force_login(sdr)

    refused = client.post(f"/contacts/{mine.pk}/status/", {"status": Status.QUALIFYING}, follow=True)
    no_reason = client.post(f"/contacts/{mine.pk}/status/", {"status": Status.RECYCLE}, follow=True)
    read_only = client.post(f"/contacts/{theirs.pk}/status/", {"status": Status.ACCEPTED}, follow=True)
    bad = client.post(f"/contacts/{mine.pk}/status/", {"status": "sleeping"}, follow=True)

    mine.refresh_from_db()
    theirs.refresh_from_db()
    assert mine.status == theirs.status == Status.MQL
    assert not mine.status_changes.exists()
    assert "Qualifying" in refused.content.decode()
    assert "reason" in no_reason.content.decode().lower()
    assert "may read this contact but not change it" in read_only.content.decode()
    assert "Pick a status" in bad.content.decode()


def test_the_menu_links_the_contacts(client, sdr):
    client.force_login(sdr)
    assert 'href="/contacts/"' in client.get("/leads/").content.decode()


def test_a_teammates_contact_reads_but_offers_no_status_form(client, sdr, teammate):
    theirs = ContactFactory(owner=teammate, status=Status.MQL)
    client.force_login(sdr)
    page = client.get(f"/contacts/{theirs.pk}/").content.decode()
    assert "You can read this contact but not change it." in page
    assert f'action="/contacts/{theirs.pk}/status/"' not in page
    client.force_login(teammate)
    assert f'action="/contacts/{theirs.pk}/status/"' in client.get(f"/contacts/{theirs.pk}/").content.decode()
