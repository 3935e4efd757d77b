"""Ops' admin shows sequences, enrolments, events and tombstones; only sequences are edited there."""

from __future__ import annotations

import pytest
from django.utils import timezone

from leads.models import Account, Lead, Sequence, SequenceEvent, Tombstone
from sdrcrm.models import FieldChange
from tests.factories import AccountFactory, ContactFactory, EnrollmentFactory, LeadFactory, UserFactory

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize("model", ["sequence", "enrollment", "sequenceevent", "tombstone"])
def test_ops_see_the_lifecycle_records_in_the_admin(ops_client, model):
    enrollment = EnrollmentFactory()
    SequenceEvent.objects.create(enrollment=enrollment, kind="replied", occurred_at=timezone.now())
    Tombstone.objects.create(kind="spam", original_id=1, email_hash="0" * 64, deleted_at=timezone.now())

    response = ops_client.get(f"/admin/leads/{model}/")

    assert response.status_code == 200 and response.context["cl"].result_count == 1


def test_ops_build_a_sequence_with_steps_in_the_admin(ops_client):
    response = ops_client.post("/admin/leads/sequence/add/", {
        "name": "Admin seq", "touch": "high", "is_active": "on",
        "steps-TOTAL_FORMS": "2", "steps-INITIAL_FORMS": "0",
        "steps-0-position": "1", "steps-0-day_offset": "0", "steps-0-type": "call",
        "steps-1-position": "2", "steps-1-day_offset": "2", "steps-1-type": "auto_email",
    })

    assert response.status_code == 302
    steps = Sequence.objects.get(name="Admin seq").steps.order_by("position")
    assert list(steps.values_list("position", "day_offset", "type")) == [(1, 0, "call"), (2, 2, "auto_email")]


@pytest.mark.parametrize("model", ["enrollment", "sequenceevent", "tombstone"])
def test_enrolments_events_and_tombstones_cannot_be_added_by_hand(ops_client, model):
    assert ops_client.get(f"/admin/leads/{model}/add/").status_code == 403


def test_the_admin_refuses_steps_the_api_would_refuse(ops_client):
    response = ops_client.post("/admin/leads/sequence/add/", {
        "name": "Backwards", "touch": "low", "is_active": "on",
        "steps-TOTAL_FORMS": "2", "steps-INITIAL_FORMS": "0",
        "steps-0-position": "1", "steps-0-day_offset": "5", "steps-0-type": "call",
        "steps-1-position": "2", "steps-1-day_offset": "1", "steps-1-type": "call",
    })

    assert response.status_code == 200  # the form again, with the error
    assert "day offsets may not decrease" in response.content.decode()
    assert not Sequence.objects.filter(name="Backwards").exists()


# --- Leads, contacts, accounts and pools are saved through their services -----------------


def lead_form(lead, **changes) -> dict:
    """The admin change form of `lead` as posted, with `changes`."""
    fields = {"email": lead.email, "first_name": lead.first_name, "last_name": lead.last_name, "title": lead.title,
              "phone": lead.phone, "company": lead.company, "country": lead.country, "state": lead.state,
              "city": lead.city, "industry": lead.industry, "lead_source": lead.lead_source, "sla_pool": lead.sla_pool,
              "last_interesting_moment": lead.last_interesting_moment,
              "is_passive": "on" if lead.is_passive else ""}
    fields.update(changes)
    return {key: value for key, value in fields.items() if value not in (None, "")}


def test_an_admin_edit_is_refused_as_the_api_would_refuse_it(ops_client):
    lead = LeadFactory(email="jo@acme.com")

    response = ops_client.post(f"/admin/leads/lead/{lead.pk}/change/", lead_form(lead, email="jo@mailinator.com"))

    assert response.status_code == 200  # the form again, with the service's words
    assert "disposable (self-terminating) email domain" in response.content.decode()
    lead.refresh_from_db()
    assert lead.email == "jo@acme.com" and not FieldChange.objects.exists()


def test_an_admin_title_edit_rescores_the_lead_and_writes_its_history_once(ops_client, ops):
    lead = LeadFactory(email="jo@acme.com", title="Intern", score=0)

    response = ops_client.post(f"/admin/leads/lead/{lead.pk}/change/", lead_form(lead, title="VP Engineering"))

    assert response.status_code == 302, response.content.decode()[:3000]
    lead.refresh_from_db()
    assert lead.title == "VP Engineering" and lead.score > 0  # the profile rules saw the new title
    assert list(FieldChange.objects.values_list("field", "old", "new", "by")) == [
        ("title", "Intern", "VP Engineering", ops.pk)]


def test_a_lead_added_in_the_admin_comes_in_through_the_ingest_pipeline(ops_client):
    response = ops_client.post("/admin/leads/lead/add/", {
        "email": "NEW@Initech.com", "first_name": "PETER", "last_name": "gibbons", "title": "VP Engineering",
        "country": "US", "initial_source": "contact_request", "is_passive": "on"})

    assert response.status_code == 302, response.content.decode()[:3000]
    lead = Lead.objects.get(email="new@initech.com")
    assert (lead.first_name, lead.last_name, lead.region) == ("Peter", "Gibbons", "amer")
    assert lead.score > 0 and lead.score_entries.exists()  # scored, with its ledger


@pytest.mark.parametrize("model", ["lead", "contact", "account"])
def test_the_admin_deletes_people_and_accounts_softly_through_the_service(ops_client, model):
    """docs/rules.md §11.2: the admin's delete view hides the record, restorable, audited; the row stays."""
    record = {"lead": LeadFactory, "contact": ContactFactory, "account": AccountFactory}[model]()

    assert ops_client.get(f"/admin/leads/{model}/{record.pk}/delete/").status_code == 200
    assert ops_client.post(f"/admin/leads/{model}/{record.pk}/delete/", {"post": "yes"}).status_code == 302
    assert not type(record).objects.filter(pk=record.pk).exists()
    assert type(record).all_objects.get(pk=record.pk).deleted_at is not None
    assert FieldChange.objects.filter(record=model, record_id=record.pk, field="deleted").exists()


def test_the_admins_delete_action_is_soft_and_all_or_nothing(ops_client):
    from opportunities.models import Opportunity
    from tests.factories import OpportunityFactory

    leads = [LeadFactory(), LeadFactory()]
    ops_client.post("/admin/leads/lead/", {"action": "delete_selected", "_selected_action": [lead.pk for lead in leads],
                                           "post": "yes"})
    assert Lead.all_objects.filter(pk__in=[lead.pk for lead in leads], deleted_at__isnull=False).count() == 2
    busy, free = AccountFactory(), AccountFactory()
    OpportunityFactory(account=busy)
    ops_client.post("/admin/leads/account/", {"action": "delete_selected", "_selected_action": [busy.pk, free.pk],
                                              "post": "yes"})
    assert Account.objects.filter(pk__in=[busy.pk, free.pk]).count() == 2  # refused as one
    deal = Opportunity.objects.get(account=busy)
    assert ops_client.post(f"/admin/opportunities/opportunity/{deal.pk}/delete/", {"post": "yes"}).status_code == 302
    assert Opportunity.all_objects.get(pk=deal.pk).deleted_at is not None


def test_pool_members_edited_in_the_admin_keep_their_turn_and_go_through_save_pool(ops_client, monkeypatch):
    from routing import pools
    from routing.models import Pool, PoolMember

    pool = Pool.objects.create(name="Admin pool")
    stays, leaves, joins = UserFactory(role="bdr"), UserFactory(role="bdr"), UserFactory(role="bdr")
    kept = PoolMember.objects.create(pool=pool, user=stays, position=0, credit=3, assigned=7)
    gone = PoolMember.objects.create(pool=pool, user=leaves, position=1)
    calls = []
    monkeypatch.setattr(pools, "save_pool", lambda *args, real=pools.save_pool: calls.append(args) or real(*args))

    response = ops_client.post(f"/admin/routing/pool/{pool.pk}/change/", {
        "name": "Admin pool", "description": "",
        "members-TOTAL_FORMS": "3", "members-INITIAL_FORMS": "2",
        "members-0-id": kept.pk, "members-0-pool": pool.pk, "members-0-user": stays.pk, "members-0-position": "5",
        "members-0-weight": "2",
        "members-1-id": gone.pk, "members-1-pool": pool.pk, "members-1-user": leaves.pk, "members-1-position": "1",
        "members-1-weight": "1", "members-1-DELETE": "on",
        "members-2-pool": pool.pk, "members-2-user": joins.pk, "members-2-position": "6", "members-2-weight": "1",
    })

    assert response.status_code == 302, response.content.decode()[:3000]
    assert any(members is not None for _, _, members in calls)  # the members went through the service
    rows = {m.user_id: (m.position, m.weight, m.credit, m.assigned) for m in PoolMember.objects.filter(pool=pool)}
    assert rows == {stays.pk: (5, 2, 3, 7), joins.pk: (6, 1, 0, 0)}
