"""Field history (docs/rules.md §11, data): every edit of a lead, contact, account or opportunity
leaves one row per changed field, readable at `{id}/field-history/` and on the pages."""

from __future__ import annotations

from decimal import Decimal
from types import SimpleNamespace

import pytest
from django.contrib import admin

from leads.models import Status
from sdrcrm.models import FieldChange
from tests.factories import AccountFactory, ContactFactory, LeadFactory, OpportunityFactory

pytestmark = pytest.mark.django_db


def history(api, user, path: str) -> list[dict]:
    response = api.as_user(user).get(f"{path}field-history/")
    assert response.status_code == 200, response.content
    return response.json()


def test_a_lead_edit_records_each_changed_field_only(api, sdr):
    lead = LeadFactory(owner=sdr, title="Developer", phone="", company="Acme")
    client = api.as_user(sdr)

    response = client.patch(f"/api/v1/leads/{lead.pk}/", {"title": "VP Engineering", "phone": "+1 555 0100",
                                                          "company": "Acme"})

    assert response.status_code == 200, response.content
    rows = {row["field"]: row for row in history(api, sdr, f"/api/v1/leads/{lead.pk}/")}
    assert set(rows) == {"title", "phone"}  # company was sent unchanged
    assert (rows["title"]["old"], rows["title"]["new"], rows["title"]["by"]) == ("Developer", "VP Engineering",
                                                                                sdr.username)
    assert (rows["phone"]["old"], rows["phone"]["new"]) == ("", "+1 555 0100")


def test_an_owner_change_records_the_ids_and_null_for_none(api, manager, sdr, teammate):
    lead = LeadFactory(owner=sdr)
    assert api.as_user(manager).patch(f"/api/v1/leads/{lead.pk}/", {"owner": teammate.pk}).status_code == 200
    assert api.as_user(manager).patch(f"/api/v1/leads/{lead.pk}/", {"owner": None}).status_code == 200
    newest, first = history(api, manager, f"/api/v1/leads/{lead.pk}/")
    assert (first["field"], first["old"], first["new"]) == ("owner", str(sdr.pk), str(teammate.pk))
    assert (newest["old"], newest["new"]) == (str(teammate.pk), None)


def test_an_ingest_that_updates_a_lead_records_what_the_integration_changed(api, integration):
    client = api.as_user(integration)
    assert client.post("/api/v1/leads/", {"email": "dee@acme.com", "last_name": "Dee", "title": "Developer",
                                          "initial_source": "webcast"}).status_code == 201
    assert not FieldChange.objects.exists()  # a new lead is no edit
    assert client.post("/api/v1/leads/", {"email": "DEE@acme.com", "title": "CTO"}).status_code == 200
    change = FieldChange.objects.get()
    assert (change.record, change.field, change.old, change.new, change.by) == (
        "lead", "title", "Developer", "CTO", integration)


def test_a_contact_edit_is_recorded_under_the_contact(api, sdr):
    contact = ContactFactory(owner=sdr, title="Engineer", status=Status.MQL)
    assert api.as_user(sdr).patch(f"/api/v1/contacts/{contact.pk}/", {"title": "Head of IT"}).status_code == 200
    (row,) = history(api, sdr, f"/api/v1/contacts/{contact.pk}/")
    assert (row["field"], row["old"], row["new"]) == ("title", "Engineer", "Head of IT")
    assert FieldChange.objects.get().record == "contact"


def test_an_account_edit_is_recorded_but_its_creation_is_not(api, ops):
    client = api.as_user(ops)
    created = client.post("/api/v1/accounts/", {"name": "Initech", "employee_count": 100})
    assert created.status_code == 201, created.content
    assert not FieldChange.objects.exists()
    account_id = created.json()["id"]
    assert client.patch(f"/api/v1/accounts/{account_id}/", {"employee_count": 250}).status_code == 200
    (row,) = history(api, ops, f"/api/v1/accounts/{account_id}/")
    assert (row["field"], row["old"], row["new"], row["by"]) == ("employee_count", "100", "250", ops.username)


def test_an_opportunity_edit_is_recorded(api):
    opportunity = OpportunityFactory(iacv=Decimal("1000.00"))
    owner = opportunity.owner
    response = api.as_user(owner).patch(f"/api/v1/opportunities/{opportunity.pk}/", {"iacv": "2500.00"})
    assert response.status_code == 200, response.content
    (row,) = history(api, owner, f"/api/v1/opportunities/{opportunity.pk}/")
    assert (row["field"], row["old"], row["new"]) == ("iacv", "1000.00", "2500.00")


def test_the_history_of_a_record_you_may_not_see_is_not_found(api, sdr, other_sdr):
    lead = LeadFactory(owner=other_sdr)
    assert api.as_user(sdr).get(f"/api/v1/leads/{lead.pk}/field-history/").status_code == 404


def test_the_lead_page_shows_the_field_changes(client, api, sdr):
    lead = LeadFactory(owner=sdr, title="Developer")
    api.as_user(sdr).patch(f"/api/v1/leads/{lead.pk}/", {"title": "Director"})
    client.force_login(sdr)
    page = client.get(f"/leads/{lead.pk}/").content.decode()
    assert "Title changed</td><td>Developer → Director</td>" in page


def test_the_newest_changes_come_first(api, sdr):
    lead = LeadFactory(owner=sdr)
    for n in range(3):
        api.as_user(sdr).patch(f"/api/v1/leads/{lead.pk}/", {"title": f"Title {n}"})
    assert [row["new"] for row in history(api, sdr, f"/api/v1/leads/{lead.pk}/")] == ["Title 2", "Title 1", "Title 0"]


@pytest.mark.parametrize("model_name", ["lead", "contact", "account"])
def test_an_admin_edit_is_recorded_with_the_old_value_from_the_row(rf, ops, model_name):
    record = {"lead": LeadFactory, "contact": ContactFactory, "account": AccountFactory}[model_name](
        industry="Retail")
    model_admin = admin.site._registry[type(record)]
    request = rf.post("/admin/")
    request.user = ops
    record.industry = "Software"  # as the admin's form sets it before save_model
    model_admin.save_model(request, record, SimpleNamespace(changed_data=["industry"]), change=True)

    change = FieldChange.objects.get()
    assert (change.record, change.field, change.old, change.new, change.by) == (
        model_name, "industry", "Retail", "Software", ops)
    record.refresh_from_db()
    assert record.industry == "Software"
