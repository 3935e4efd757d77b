"""Recoverable deletes (docs/rules.md §11.2): a deleted lead, contact, account or opportunity is
hidden everywhere, ops restore it as it was within 30 days, the nightly purge deletes it for
good in batches; every delete and restore is audited; a deleted lead's email stays taken."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from leads import bulk, people, queues, sequences, services, today, trash
from leads.models import Account, Activity, Contact, Enrollment, Lead, QueueTally, Task
from opportunities.models import Opportunity
from sdrcrm.jobs import run_job
from sdrcrm.models import FieldChange, Role
from tests.conftest import assert_refused
from tests.factories import (
    AccountFactory,
    ActivityFactory,
    ContactFactory,
    LeadFactory,
    OpportunityFactory,
    SequenceFactory,
    UserFactory,
)

pytestmark = pytest.mark.django_db

LIST_URLS = {"lead": "/api/v1/leads/", "contact": "/api/v1/contacts/", "account": "/api/v1/accounts/",
             "opportunity": "/api/v1/opportunities/"}


@pytest.fixture
def records(sdr, team):
    """One record of each kind owned by the team's SDR (an account without contacts or deals)."""
    account = AccountFactory(name="Initech")
    return {
        "lead": LeadFactory(owner=sdr, last_name="Lumbergh", email="bill@initech.com", status="mql",
                            mql_at=timezone.now()),
        "contact": ContactFactory(owner=sdr, last_name="Waddams", email="milton@initech.com"),
        "account": account,
        "opportunity": OpportunityFactory(sdr=sdr, name="Initech platform", account=AccountFactory()),
    }


@pytest.mark.parametrize("kind", list(trash.KINDS))
def test_a_delete_hides_the_record_from_the_api_search_and_lists_and_restore_brings_it_back(
        kind, records, manager, ops, api):
    record = records[kind]
    before = {f.attname: getattr(record, f.attname) for f in record._meta.concrete_fields}
    manager_api = api.as_user(manager)
    assert manager_api.delete(f"{LIST_URLS[kind]}{record.pk}/").status_code == 204
    assert not type(record).objects.filter(pk=record.pk).exists()
    ops_api = api.as_user(ops)
    assert ops_api.get(f"{LIST_URLS[kind]}{record.pk}/").status_code == 404
    assert record.pk not in [row["id"] for row in ops_api.get(LIST_URLS[kind]).json()["results"]]
    found = ops_api.get("/api/v1/search/", {"q": "initech"}).json()
    assert found[f"{kind}s".replace("ys", "ies")] == []  # the only other "initech" records are other kinds
    listed = ops_api.get("/api/v1/deleted/", {"kind": kind}).json()["results"]
    assert [(row["id"], row["deleted_by"], row["days_left"]) for row in listed] == [(record.pk, manager.pk, 29)]

    restored = ops_api.post(f"/api/v1/deleted/{kind}/{record.pk}/restore/")
    assert restored.status_code == 200 and restored.json()["id"] == record.pk
    assert ops_api.get(f"{LIST_URLS[kind]}{record.pk}/").status_code == 200
    record.refresh_from_db()
    assert {f.attname: getattr(record, f.attname) for f in record._meta.concrete_fields} == before
    audit = FieldChange.objects.filter(record=kind, record_id=record.pk, field="deleted").order_by("id")
    assert [(change.by, change.old is None, change.new is None) for change in audit] == [
        (manager, True, False), (ops, False, True)]
    assert ops_api.get("/api/v1/deleted/", {"kind": kind}).json()["results"] == []


def test_who_may_delete_managers_of_the_team_and_ops(records, sdr, other_sdr, ops, api):
    lead = records["lead"]
    assert_refused(api.as_user(sdr).delete(f"/api/v1/leads/{lead.pk}/"), status=403)  # the owner SDR
    assert api.as_user(other_sdr).delete(f"/api/v1/leads/{lead.pk}/").status_code == 404  # cannot see it
    other_manager = UserFactory(role=Role.SDR_MANAGER)
    assert api.as_user(other_manager).delete(f"/api/v1/leads/{lead.pk}/").status_code in (403, 404)
    assert Lead.objects.filter(pk=lead.pk).exists()
    assert api.as_user(ops).delete(f"/api/v1/leads/{lead.pk}/").status_code == 204


def test_only_ops_see_recently_deleted_and_restore(records, manager, api):
    trash.delete_record(records["lead"], by=manager)
    assert_refused(api.as_user(manager).get("/api/v1/deleted/?kind=lead"), status=403)
    assert_refused(api.as_user(manager).post(f"/api/v1/deleted/lead/{records['lead'].pk}/restore/"), status=403)
    assert Lead.all_objects.get(pk=records["lead"].pk).deleted_at is not None


def test_an_unknown_kind_or_a_bad_cursor_is_refused_in_words(ops, api):
    client = api.as_user(ops)
    assert_refused(client.get("/api/v1/deleted/?kind=widget"), field="kind")
    assert_refused(client.get("/api/v1/deleted/?kind=lead&cursor=nonsense"), field="cursor")
    assert_refused(client.post("/api/v1/deleted/widget/1/restore/"), status=404)


def test_a_restore_after_thirty_days_or_of_a_purged_record_is_a_404_in_words(records, manager, ops, api):
    lead = records["lead"]
    trash.delete_record(lead, by=manager, now=timezone.now() - timedelta(days=31))
    body = assert_refused(api.as_user(ops).post(f"/api/v1/deleted/lead/{lead.pk}/restore/"), status=404)
    assert "30 days" in body["detail"]
    trash.purge_expired(timezone.now())
    assert not Lead.all_objects.filter(pk=lead.pk).exists()
    assert_refused(api.as_user(ops).post(f"/api/v1/deleted/lead/{lead.pk}/restore/"), status=404)


def test_an_account_with_live_contacts_or_deals_and_a_contact_with_deals_are_refused(manager, ops, api, sdr):
    account = AccountFactory(name="Globex")
    contact = ContactFactory(owner=sdr, account=account)
    OpportunityFactory(account=account, primary_contact=contact, sdr=sdr)
    client = api.as_user(ops)
    body = assert_refused(client.delete(f"/api/v1/accounts/{account.pk}/"), status=409)
    assert "1 live contact and 1 live opportunity" in body["detail"]
    body = assert_refused(client.delete(f"/api/v1/contacts/{contact.pk}/"), status=409)
    assert "1 live opportunity" in body["detail"]
    assert Account.objects.filter(pk=account.pk).exists() and Contact.objects.filter(pk=contact.pk).exists()


def test_a_contact_or_deal_of_a_deleted_account_is_restored_after_its_account(ops, api, sdr):
    account = AccountFactory()
    deal = OpportunityFactory(account=account, sdr=sdr)
    trash.delete_record(deal, by=ops)
    trash.delete_record(account, by=ops)
    body = assert_refused(api.as_user(ops).post(f"/api/v1/deleted/opportunity/{deal.pk}/restore/"), status=409)
    assert f"account {account.pk}" in body["detail"]
    trash.restore_record(trash.kind_of("account"), account.pk, by=ops)
    assert api.as_user(ops).post(f"/api/v1/deleted/opportunity/{deal.pk}/restore/").status_code == 200


def test_a_converted_lead_is_refused_it_lives_on_as_its_contact(ops, api, sdr):
    contact = ContactFactory(owner=sdr)
    lead = LeadFactory(owner=sdr, converted_to=contact, status="qualified")
    body = assert_refused(api.as_user(ops).delete(f"/api/v1/leads/{lead.pk}/"), status=409)
    assert f"contact {contact.pk}" in body["detail"]


def test_an_if_match_with_an_older_etag_deletes_nothing(records, ops, api):
    lead = records["lead"]
    client = api.as_user(ops)
    etag = client.get(f"/api/v1/leads/{lead.pk}/")["ETag"]
    Lead.objects.filter(pk=lead.pk).update(updated_at=timezone.now() + timedelta(seconds=5))
    stale = client.delete(f"/api/v1/leads/{lead.pk}/", HTTP_IF_MATCH=etag)
    assert stale.status_code == 409 and stale.json()["current"]["id"] == lead.pk
    assert Lead.objects.filter(pk=lead.pk).exists()
    fresh = client.get(f"/api/v1/leads/{lead.pk}/")["ETag"]
    assert client.delete(f"/api/v1/leads/{lead.pk}/", HTTP_IF_MATCH=fresh).status_code == 204


def test_deleting_a_lead_ends_its_enrolment_and_hides_its_tasks_until_restored(records, manager, ops, sdr):
    lead = records["lead"]
    enrollment, _ = sequences.enroll(lead, SequenceFactory(), by=sdr)
    task = Task.objects.create(title="Call back", due_at=timezone.now(), owner=sdr, lead=lead)
    trash.delete_record(lead, by=manager)
    enrollment.refresh_from_db()
    assert enrollment.state == Enrollment.State.FINISHED
    assert task not in today.open_tasks(sdr)
    trash.restore_record(trash.kind_of("lead"), lead.pk, by=ops)
    assert task in today.open_tasks(sdr)


def test_a_deleted_lead_leaves_the_queue_counts_and_comes_back(records, manager, ops, sdr):
    now = timezone.now()
    queues.count_queues(now)
    counted = sum(QueueTally.objects.filter(owner=sdr).exclude(key=QueueTally.BREACHES).values_list("count", flat=True))
    assert counted >= 1  # My MQLs
    trash.delete_record(records["lead"], by=manager)
    queues.count_queues(now)
    after = sum(QueueTally.objects.filter(owner=sdr).exclude(key=QueueTally.BREACHES).values_list("count", flat=True))
    assert after == counted - 1
    trash.restore_record(trash.kind_of("lead"), records["lead"].pk, by=ops)
    queues.count_queues(now)
    assert sum(QueueTally.objects.filter(owner=sdr).exclude(key=QueueTally.BREACHES)
               .values_list("count", flat=True)) == counted


def test_ingesting_a_deleted_leads_email_is_refused_single_and_bulk(records, manager, ops, api):
    lead = records["lead"]
    trash.delete_record(lead, by=manager)
    body = assert_refused(api.as_user(ops).post("/api/v1/leads/", {"email": "BILL@initech.com", "last_name": "L",
                                                                   "initial_source": "webcast"}, format="json"),
                          field="email", status=409)
    assert "was deleted on" in body["detail"] and "Recently deleted" in body["detail"]
    outcomes = bulk.ingest_batch([({"email": "bill@initech.com", "last_name": "L", "initial_source": "webcast"}, []),
                                  ({"email": "new@initech.com", "last_name": "N", "initial_source": "webcast"}, [])],
                                 by=ops)
    assert [o.result for o in outcomes] == ["rejected", "created"]
    assert "was deleted on" in outcomes[0].detail
    assert Lead.all_objects.filter(email="bill@initech.com").count() == 1


def test_the_purge_deletes_for_good_after_thirty_days_in_batches_with_dependents(manager, ops, sdr, settings):
    now = timezone.now()
    old = [LeadFactory(owner=sdr) for _ in range(5)]
    for lead in old:
        ActivityFactory(lead=lead)
        trash.delete_record(lead, by=manager, now=now - timedelta(days=31))
    recent = LeadFactory(owner=sdr)
    trash.delete_record(recent, by=manager, now=now - timedelta(days=29))
    account = AccountFactory()
    deal = OpportunityFactory(account=account, sdr=sdr)
    trash.delete_record(deal, by=ops, now=now - timedelta(days=31))
    trash.delete_record(account, by=ops, now=now - timedelta(days=31))
    settings.TRASH_PURGE_BATCH = 2  # three batches of leads
    run = run_job("trash_purge", now)
    assert run.counts == {"opportunity": 1, "contact": 0, "lead": 5, "account": 1}
    assert not Lead.all_objects.filter(pk__in=[lead.pk for lead in old]).exists()
    assert not Activity.objects.filter(lead__in=[lead.pk for lead in old]).exists()
    assert Lead.all_objects.filter(pk=recent.pk).exists()
    assert not Opportunity.all_objects.filter(pk=deal.pk).exists()
    assert not Account.all_objects.filter(pk=account.pk).exists()


def test_the_purge_keeps_an_account_a_deleted_deal_still_points_at(ops, sdr):
    now = timezone.now()
    account = AccountFactory()
    deal = OpportunityFactory(account=account, sdr=sdr)
    trash.delete_record(deal, by=ops, now=now - timedelta(days=5))
    trash.delete_record(account, by=ops, now=now - timedelta(days=31))
    assert trash.purge_expired(now)["account"] == 0
    assert Account.all_objects.filter(pk=account.pk).exists()


def test_the_purge_works_in_batches_of_the_given_size(manager, sdr, django_assert_max_num_queries):
    now = timezone.now()
    for _ in range(7):
        trash.delete_record(LeadFactory(owner=sdr), by=manager, now=now - timedelta(days=40))
    assert trash.purge_expired(now, batch_size=3)["lead"] == 7
    assert not Lead.all_objects.exists()


def test_the_recently_deleted_list_is_keyset_paged_in_a_fixed_number_of_queries(ops, manager, sdr, api,
                                                                                  django_assert_max_num_queries):
    for _ in range(60):
        trash.delete_record(LeadFactory(owner=sdr), by=manager)
    client = api.as_user(ops)
    with django_assert_max_num_queries(4):
        first = client.get("/api/v1/deleted/?kind=lead").json()
    second = client.get(first["next"]).json()
    assert len(first["results"]) == 50 and len(second["results"]) == 10 and second["next"] is None
    assert not {row["id"] for row in first["results"]} & {row["id"] for row in second["results"]}


def test_services_reading_by_email_leave_a_deleted_lead_alone(records, manager):
    lead = records["lead"]
    trash.delete_record(lead, by=manager)
    assert people.find_person_by_email("bill@initech.com", None) is None
    with pytest.raises(Exception, match="was deleted on"):
        services.ingest_lead({"email": "bill@initech.com", "last_name": "X", "initial_source": "webcast"}, by=None)
