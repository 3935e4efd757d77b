"""`lead.assigned` (sdrcrm/webhooks.py, docs/rules.md §10.1): every way a lead's owner
changes sends exactly one event with the lead, its old and new owner and the cause, in
the change's transaction; nothing is sent for a rolled-back change, and nothing is read
or written when no endpoint wants the kind."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime

import pytest
from django.db import connection, transaction
from django.test.utils import CaptureQueriesContext

from leads import accounts, bulk_actions, people, services
from leads.conversion import convert_lead
from leads.jobs import queue_inquiries
from leads.models import Account, Lead, Status
from routing.jobs import check_sla
from routing.models import Territory
from sdrcrm import config, webhooks
from sdrcrm.models import Role, WebhookDelivery, WebhookEndpoint, WebhookEvent
from tests.conftest import pool_of
from tests.factories import LeadFactory, UserFactory
from tests.leads.test_imports import GOOD, csv_bytes, upload

pytestmark = pytest.mark.django_db

# Friday 20 November 2026, 16:00 in New York; the SLA's second business day ends Tuesday 16:00.
FRIDAY_4PM = datetime(2026, 11, 20, 21, 0, tzinfo=UTC)
MONDAY_4PM = datetime(2026, 11, 23, 21, 0, tzinfo=UTC)
TUESDAY_4PM = datetime(2026, 11, 24, 21, 0, tzinfo=UTC)


@pytest.fixture
def endpoint(db) -> WebhookEndpoint:
    return WebhookEndpoint.objects.create(url="https://hooks.example.com/crm", secret="s" * 32,
                                          events=["lead.assigned"])


def assigned() -> list[tuple[int, int | None, int | None, str]]:
    """Every lead.assigned event written: (lead, old owner, new owner, cause), oldest first."""
    events = WebhookEvent.objects.filter(kind="lead.assigned").order_by("created_at", "id")
    return [(e.payload["id"], (e.payload["old"] or {}).get("id"), (e.payload["new"] or {}).get("id"),
             e.payload["cause"]) for e in events]


def ingest(email: str, **fields) -> Lead:
    return services.ingest_lead({"email": email, "last_name": "Doe", "initial_source": "webcast", **fields},
                                by=None).lead


def test_routing_a_new_lead_to_its_territory_sends_who_got_it(endpoint):
    sdr = UserFactory(role=Role.SDR, username="tess", email="tess@example.com")
    Territory.objects.create(name="AMER", region="amer", sdr=sdr)

    lead = ingest("a@acme.com", title="Director", country="US")  # 55 points: routed at once

    assert assigned() == [(lead.pk, None, sdr.pk, "routing")]
    event = WebhookEvent.objects.get(kind="lead.assigned")
    assert event.payload["new"] == {"id": sdr.pk, "username": "tess", "email": "tess@example.com"}
    assert event.payload["old"] is None and event.payload["at"]
    assert WebhookDelivery.objects.filter(event=event, endpoint=endpoint).count() == 1


def test_a_pool_turn_on_a_handraise_sends_one_event(endpoint):
    bdr = UserFactory(role=Role.BDR)
    pool_of("EMEA BDR", bdr)
    lead = ingest("t@firm.de", country="DE")
    assert assigned() == []  # below the threshold: nobody yet

    services.record_activity(lead, "trial_request")

    assert assigned() == [(lead.pk, None, bdr.pk, "routing")]


def test_rule_four_sends_one_for_the_lead_and_one_for_each_colleague_it_takes_along(endpoint):
    first_owner, other_owner = UserFactory(role=Role.SDR), UserFactory(role=Role.SDR)
    LeadFactory(email="first@startup.io", owner=first_owner, status=Status.MQL, mql_at="2026-01-01T00:00:00Z")
    colleague = LeadFactory(email="other@startup.io", owner=other_owner, status=Status.MQL,
                            mql_at="2026-02-01T00:00:00Z")
    lead = ingest("second@startup.io")

    services.record_activity(lead, "contact_request")

    lead.refresh_from_db()
    colleague.refresh_from_db()
    assert lead.owner == colleague.owner == first_owner
    assert sorted(assigned()) == sorted([(colleague.pk, other_owner.pk, first_owner.pk, "routing"),
                                         (lead.pk, None, first_owner.pk, "routing")])


def test_an_sla_reassignment_sends_the_old_and_the_new_owner(endpoint):
    ann, bob = (UserFactory(role=Role.BDR, username=name) for name in ("ann", "bob"))
    pool_of("US/APAC BDR", ann, bob)
    lead = services.ingest_lead({"email": "jo@firm.com", "last_name": "Doe", "country": "US", "state": "NY",
                                 "employee_count": 500, "initial_source": "web_direct"}, by=None, now=FRIDAY_4PM).lead
    services.record_activity(lead, "contact_request", now=FRIDAY_4PM)
    check_sla(MONDAY_4PM)  # breached: alerts, no new owner

    assert check_sla(TUESDAY_4PM)["reassigned"] == 1
    check_sla(TUESDAY_4PM)  # a re-run changes nothing, sends nothing

    assert assigned() == [(lead.pk, None, ann.pk, "routing"), (lead.pk, ann.pk, bob.pk, "sla_reassignment")]


def test_an_edit_through_the_api_sends_the_owner_it_replaced(api, endpoint, manager, sdr, teammate):
    lead = LeadFactory(owner=sdr, status=Status.MQL)

    response = api.as_user(manager).patch(f"/api/v1/leads/{lead.pk}/", {"owner": teammate.pk}, format="json")
    assert response.status_code == 200, response.content
    unchanged = api.as_user(manager).patch(f"/api/v1/leads/{lead.pk}/", {"owner": teammate.pk, "title": "CTO"},
                                           format="json")
    assert unchanged.status_code == 200

    assert assigned() == [(lead.pk, sdr.pk, teammate.pk, "edit")]
    old = WebhookEvent.objects.get(kind="lead.assigned").payload["old"]
    assert old == {"id": sdr.pk, "username": sdr.username, "email": sdr.email}


def test_a_bulk_assign_sends_one_event_per_lead_given(endpoint, manager, sdr, teammate):
    leads = LeadFactory.create_batch(3, owner=sdr, status=Status.MQL)
    theirs = LeadFactory(owner=teammate, status=Status.MQL)

    bulk_actions.start("lead", "assign", {"owner": teammate.pk}, [*(lead.pk for lead in leads), theirs.pk], manager)

    assert sorted(assigned()) == sorted((lead.pk, sdr.pk, teammate.pk, "bulk_assign") for lead in leads)


def test_an_ingest_naming_the_owner_sends_it_on_create_and_on_a_change(api, endpoint, integration, sdr, teammate):
    body = {"email": "ana@initech.com", "last_name": "Lopez", "initial_source": "webcast", "owner": sdr.pk}
    created = api.as_user(integration).post("/api/v1/leads/", body, format="json")
    assert created.status_code == 201, created.content
    assert api.as_user(integration).post("/api/v1/leads/", body, format="json").status_code == 200  # same owner
    api.as_user(integration).post("/api/v1/leads/", {**body, "owner": teammate.pk}, format="json")

    lead = created.json()["id"]
    assert assigned() == [(lead, None, sdr.pk, "ingest"), (lead, sdr.pk, teammate.pk, "ingest")]


def test_an_import_naming_the_owner_says_import(api, endpoint, ops, sdr):
    row = [*GOOD[:-1], sdr.username]
    record = upload(api, ops, csv_bytes([row]), dry_run="false").json()["record"]
    assert record["created"] == 1

    assert assigned() == [(Lead.objects.get(email="ana@initech.com").pk, None, sdr.pk, "import")]


def test_converting_an_unowned_lead_gives_it_its_contacts_owner(endpoint, ops, ae):
    account = accounts.save_account(Account(), {"name": "Cust", "domain": "cust.com", "employee_count": 20,
                                                 "type": "customer", "owner": ae})
    by_routing = ingest("c@cust.com", title="Director")  # rule 2: an SMB lead at a customer is converted
    unowned = LeadFactory(email="d@cust.com", status=Status.MQL, account=account)

    convert_lead(unowned, by=ops, account=account)

    assert assigned() == [(by_routing.pk, None, ae.pk, "routing"), (unowned.pk, None, ae.pk, "conversion")]


def test_the_inquiry_queue_job_sends_the_owners_it_clears(endpoint, sdr):
    owned = LeadFactory(status=Status.INQUIRY, owner=sdr)
    LeadFactory(status=Status.INQUIRY)  # queued too, but it had no owner to lose

    assert queue_inquiries(datetime(2026, 1, 16, 3, 30, tzinfo=UTC)) == {"queued": 2, "owners_cleared": 1}

    assert assigned() == [(owned.pk, sdr.pk, None, "inquiry_queue")]


def test_a_rolled_back_owner_change_sends_nothing(endpoint, sdr, teammate, django_capture_on_commit_callbacks):
    lead = LeadFactory(owner=sdr)
    with django_capture_on_commit_callbacks(execute=True) as callbacks, pytest.raises(RuntimeError):
        with transaction.atomic():
            people.update_person(lead, {"owner": teammate}, by=None)
            assert len(assigned()) == 1  # written inside the change's transaction…
            raise RuntimeError("the change fails")

    assert assigned() == [] and not WebhookDelivery.objects.exists()  # …and gone with it
    assert callbacks == []  # no delivery task queued


def queries_of(change: Callable[[], object], with_emission: bool, monkeypatch) -> list[str]:
    """The SQL of `change()` in a request's pinned configuration, with lead.assigned's
    emission as it is or taken out entirely (`with_emission=False`)."""
    with monkeypatch.context() as patch:
        if not with_emission:
            patch.setattr(webhooks, "wants", lambda kind: False)
            patch.setattr(webhooks, "emit_assigned", lambda *args, **kwargs: None)
        with config.pinned():
            config.get("webhook_kinds")  # the request's one token read, done already
            with CaptureQueriesContext(connection) as captured:
                change()
    return [query["sql"] for query in captured.captured_queries]


def test_with_no_endpoint_wanting_it_an_owner_change_costs_no_query(monkeypatch, manager, sdr, teammate):
    WebhookEndpoint.objects.create(url="https://hooks.example.com/crm", secret="s" * 32, events=["iqm.created"])
    ann, bob = (UserFactory(role=Role.BDR) for _ in range(2))
    pool_of("US/APAC BDR", ann, bob)
    Territory.objects.create(name="AMER", region="amer", sdr=UserFactory(role=Role.SDR))

    # Each path: its rows made (n tells the runs apart), then the change to measure.
    def edit(n: int) -> Callable[[], object]:
        lead = LeadFactory(owner=sdr)
        return lambda: people.update_person(lead, {"owner": teammate}, None)

    def bulk(n: int) -> Callable[[], object]:
        ids = [lead.pk for lead in LeadFactory.create_batch(2, owner=sdr)]
        return lambda: bulk_actions.start("lead", "assign", {"owner": teammate.pk}, ids, manager)

    def inquiry_queue(n: int) -> Callable[[], object]:
        LeadFactory(status=Status.INQUIRY, owner=sdr)
        return lambda: queue_inquiries(FRIDAY_4PM)

    def sla(n: int) -> Callable[[], object]:
        Lead.objects.update(sla_due_at=None, sla_breached_at=None)  # only this run's lead is overdue
        lead = services.ingest_lead({"email": f"jo{n}@firm{n}.com", "last_name": "Doe", "country": "US",
                                     "state": "NY", "employee_count": 500, "initial_source": "web_direct"},
                                    by=None, now=FRIDAY_4PM).lead
        services.record_activity(lead, "contact_request", now=FRIDAY_4PM)
        return lambda: (check_sla(MONDAY_4PM), check_sla(TUESDAY_4PM))

    def routing(n: int) -> Callable[[], object]:
        return lambda: ingest(f"r{n}@acme{n}.com", title="Director", country="US")

    for path in (edit, bulk, inquiry_queue, sla, routing):
        queries_of(path(0), True, monkeypatch)  # caches filled (configuration, content types)
        counted = queries_of(path(1), True, monkeypatch)
        baseline = queries_of(path(2), False, monkeypatch)
        assert len(counted) == len(baseline), path.__name__
        assert not any("webhook" in sql for sql in counted), path.__name__
    assert not WebhookEvent.objects.exists()


def test_with_nobody_wanting_it_emit_assigned_reads_nothing(sdr, django_assert_num_queries):
    with config.pinned():
        webhooks.wants("lead.assigned")
        with django_assert_num_queries(0):
            webhooks.emit_assigned([(1, None, sdr.pk)], webhooks.AssignCause.EDIT)
