"""The pages of recoverable deletes (docs/rules.md §11.2): the Delete button on the four record
pages (managers and ops, confirmed, CSRF), ops' Recently deleted page with Restore."""

from __future__ import annotations

import pytest
from django.test import Client

from leads import trash
from leads.models import Lead
from tests.factories import AccountFactory, ContactFactory, LeadFactory, OpportunityFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def pages(sdr):
    contact = ContactFactory(owner=sdr)
    deal = OpportunityFactory(sdr=sdr)
    return {"lead": (LeadFactory(owner=sdr), "/leads/"), "contact": (contact, "/contacts/"),
            "account": (AccountFactory(), "/accounts/"), "opportunity": (deal, "/opportunities/")}


@pytest.mark.parametrize("kind", list(trash.KINDS))
def test_a_manager_deletes_from_the_records_page_after_confirming(kind, pages, manager, client):
    record, base = pages[kind]
    client.force_login(manager)
    page = client.get(f"{base}{record.pk}/").content.decode()
    assert f'action="{base}{record.pk}/delete/"' in page and 'name="confirm"' in page
    unconfirmed = client.post(f"{base}{record.pk}/delete/", follow=True)
    assert "Tick the box" in unconfirmed.content.decode()
    assert type(record).objects.filter(pk=record.pk).exists()
    response = client.post(f"{base}{record.pk}/delete/", {"confirm": "yes"})
    assert response.status_code == 302 and response["Location"] == base
    assert not type(record).objects.filter(pk=record.pk).exists()
    assert client.get(f"{base}{record.pk}/").status_code == 404
    listed = client.get(base).content.decode()
    assert f"{base}{record.pk}/" not in listed


def test_the_owner_sdr_sees_no_delete_button_and_cannot_post_one(pages, sdr, other_sdr, client):
    lead, _ = pages["lead"]
    client.force_login(sdr)
    assert "/delete/" not in client.get(f"/leads/{lead.pk}/").content.decode()
    refused = client.post(f"/leads/{lead.pk}/delete/", {"confirm": "yes"}, follow=True)
    assert "Only a manager" in refused.content.decode()
    client.force_login(other_sdr)
    assert client.post(f"/leads/{lead.pk}/delete/", {"confirm": "yes"}).status_code == 404
    assert Lead.objects.filter(pk=lead.pk).exists()


def test_the_delete_form_needs_its_csrf_token(pages, manager):
    lead, _ = pages["lead"]
    client = Client(enforce_csrf_checks=True)
    client.force_login(manager)
    assert client.post(f"/leads/{lead.pk}/delete/", {"confirm": "yes"}).status_code == 403
    assert Lead.objects.filter(pk=lead.pk).exists()


def test_an_account_with_contacts_is_refused_on_its_page_with_the_reason(manager, sdr, client):
    account = AccountFactory(name="Globex")
    ContactFactory(owner=sdr, account=account)
    client.force_login(manager)
    page = client.post(f"/accounts/{account.pk}/delete/", {"confirm": "yes"}, follow=True).content.decode()
    assert "Globex still has 1 live contact" in page


def test_recently_deleted_is_for_ops_who_restore_from_it(pages, manager, ops, client):
    lead, _ = pages["lead"]
    trash.delete_record(lead, by=manager)
    client.force_login(manager)
    assert client.get("/deleted/").status_code == 403
    assert client.post(f"/deleted/lead/{lead.pk}/restore/").status_code == 403
    client.force_login(ops)
    page = client.get("/deleted/?kind=lead").content.decode()
    assert f'data-deleted="{lead.pk}"' in page and manager.get_full_name() in page and "<td>29</td>" in page
    assert 'href="/deleted/"' in page  # linked in ops' navigation
    response = client.post(f"/deleted/lead/{lead.pk}/restore/")
    assert response.status_code == 302
    assert Lead.objects.filter(pk=lead.pk).exists()
    assert client.post(f"/deleted/lead/{lead.pk}/restore/").status_code == 404  # not deleted any more
    assert client.get("/deleted/?kind=widget").status_code == 302


def test_recently_deleted_reads_a_page_in_a_fixed_number_of_queries(manager, ops, sdr, client,
                                                                    django_assert_max_num_queries):
    for _ in range(55):
        trash.delete_record(LeadFactory(owner=sdr), by=manager)
    client.force_login(ops)
    with django_assert_max_num_queries(8):
        page = client.get("/deleted/?kind=lead").content.decode()
    assert page.count("data-deleted=") == 50 and "Older" in page


def test_a_live_leads_link_to_its_deleted_account_reads_deleted(manager, ops, sdr, client):
    account = AccountFactory(name="Vandelay")
    lead = LeadFactory(owner=sdr, account=account)
    trash.delete_record(account, by=ops)
    client.force_login(manager)
    page = client.get(f"/leads/{lead.pk}/").content.decode()
    assert "Vandelay <span class=\"badge\">deleted</span>" in page
    assert f"/accounts/{account.pk}/" not in page
