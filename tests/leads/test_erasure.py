"""Erasure on request (leads/erasure.py, docs/rules.md §11.3): a person's data, spread over
every place the CRM keeps it, is anonymised; what the business counts stays; the email is
refused at ingest and import until ops lift the block."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.apps import apps
from django.db import models
from django.db.models import TextField
from django.db.models.functions import Cast
from django.utils import timezone

from leads import erasure, merge, people, services
from leads.conversion import convert_lead
from leads.models import Activity, ActivityType, Contact, Erasure, Lead, Status, Task
from opportunities import iqms
from opportunities.models import IQM, Opportunity
from sdrcrm.errors import Refused
from sdrcrm.models import FieldChange, Notification, WebhookEndpoint
from tests.conftest import assert_refused
from tests.factories import LeadFactory

from .test_imports import csv_bytes, upload

pytestmark = pytest.mark.django_db

EMAIL = "zephyrine.quillfeather@hollowmere.com"
OLD_EMAIL = "zq@old-hollowmere.com"
PHONE = "+1 415 555 0199"
OLD_PHONE = "+1 415 555 0142"
# What must be nowhere after the erasure (case-insensitive): the emails, names and phones.
ERASED_VALUES = [EMAIL, OLD_EMAIL, "Zephyrine", "Quillfeather", PHONE, OLD_PHONE]


def text_columns_holding(value: str) -> list[str]:
    """Every text column of every table (JSON read as text) where `value` appears."""
    found = []
    for model in apps.get_models():
        for field in model._meta.concrete_fields:
            if not isinstance(field, (models.CharField, models.TextField, models.JSONField)):
                continue
            rows = model._base_manager.annotate(as_text=Cast(field.name, TextField()))
            if rows.filter(as_text__icontains=value).exists():
                found.append(f"{model._meta.db_table}.{field.column}")
    return found


@pytest.fixture
def person(api, ops, sdr, ae, settings):
    """Zephyrine Quillfeather everywhere the CRM keeps a person: ingested through the API
    (with an idempotency key and a webhook subscribed), imported from a file, a call logged
    with notes, a phone edited (field history), a duplicate merged into her lead, a task,
    an IQM, routing's alert, then converted to a contact with a deal."""
    settings.WEBHOOKS_ALLOW_PRIVATE = True
    WebhookEndpoint.objects.create(url="http://127.0.0.1:9/hook", secret="s", events=["lead.created"])
    body = {"email": EMAIL, "first_name": "Zephyrine", "last_name": "Quillfeather", "phone": OLD_PHONE,
            "company": "Hollowmere", "title": "CTO", "initial_source": "webcast", "owner": sdr.pk}
    response = api.as_user(ops).post("/api/v1/leads/", body, format="json", HTTP_IDEMPOTENCY_KEY="zq-1")
    assert response.status_code in (200, 201), response.content
    lead = Lead.objects.get(email=EMAIL)
    content = csv_bytes([[EMAIL, "Zephyrine", "Quillfeather", "CTO", "Hollowmere", "US", "80", "webcast", "no", ""]])
    assert upload(api, ops, content).status_code in (200, 201)
    services.record_activity(lead, ActivityType.CALL, by=sdr, details={"notes": "Zephyrine asked for pricing"})
    people.update_person(lead, {"phone": PHONE}, by=sdr)
    duplicate = LeadFactory(email=OLD_EMAIL, first_name="Zephyrine", last_name="Quillfeather", owner=sdr)
    merge.merge_leads(lead, duplicate, by=ops)
    Task.objects.create(title="Call Zephyrine Quillfeather back", owner=sdr, lead=lead,
                        due_at=timezone.now() + timedelta(days=1))
    start = timezone.now() + timedelta(days=2)
    iqms.book_iqm(lead, {"start": start, "end": start + timedelta(minutes=30),
                         "description": "Zephyrine wants a demo of the API"}, by=sdr)
    Notification.objects.create(user=sdr, kind=Notification.Kind.ROUTING, lead=lead,
                                message="Zephyrine Quillfeather (Hollowmere) was routed to you")
    Lead.objects.filter(pk=lead.pk).update(status=Status.QUALIFYING)
    lead.refresh_from_db()
    conversion = convert_lead(lead, by=sdr, new_account={"name": "Hollowmere"},
                              opportunity={"owner": ae, "name": "Hollowmere - new business", "sdr": sdr})
    return {"lead": Lead.objects.get(pk=lead.pk), "contact": conversion.contact,
            "opportunity": conversion.opportunity}


def test_an_erasure_leaves_no_clear_text_of_the_person_in_any_table(person, ops):
    before = {value: text_columns_holding(value) for value in ERASED_VALUES}
    # The fixture did put her everywhere: the check below would catch a missed table.
    assert {"leads_lead.email", "leads_contact.first_name", "leads_activity.details", "sdrcrm_fieldchange.new",
            "leads_tombstone.snapshot", "leads_task.title", "opportunities_iqm.subject", "sdrcrm_notification.message",
            "leads_importrow.values", "sdrcrm_webhookevent.payload", "sdrcrm_idempotentrequest.response"} <= {
        column for columns in before.values() for column in columns}

    record = erasure.erase_person(EMAIL, "the person, by email to privacy@", by=ops)

    assert {value: text_columns_holding(value) for value in ERASED_VALUES} == {value: [] for value in ERASED_VALUES}
    assert (record.leads, record.contacts, record.requested_by) == (1, 1, "the person, by email to privacy@")
    assert record.email_hash not in EMAIL and len(record.email_hash) == 64


def test_what_the_business_counts_stays(person, ops):
    lead, opportunity = person["lead"], person["opportunity"]
    activities = Activity.objects.filter(lead=lead).count()

    erasure.erase_person(EMAIL, "the person", by=ops)

    lead.refresh_from_db()
    assert (lead.status, lead.owner, lead.company, lead.initial_source) == (
        Status.QUALIFIED, person["lead"].owner, "Hollowmere", "webcast")
    assert lead.last_name == erasure.ERASED and lead.email == f"erased-{lead.pk}@erased.invalid"
    assert Activity.objects.filter(lead=lead).count() == activities
    kept = Opportunity.objects.get(pk=opportunity.pk)
    assert (kept.iacv, kept.sdr, kept.stage, kept.name) == (opportunity.iacv, opportunity.sdr, opportunity.stage,
                                                             "Hollowmere - new business")
    assert IQM.objects.get(description__endswith="a demo of the API").description == "[erased] wants a demo of the API"
    assert Contact.objects.get(pk=person["contact"].pk).email == ""
    # Field history keeps that the phone changed, not the numbers.
    change = FieldChange.objects.get(record="lead", record_id=lead.pk, field="phone")
    assert (change.old, change.new) == (erasure.ERASED, erasure.ERASED)


def test_the_erased_email_is_refused_at_ingest_bulk_and_import_until_ops_lift_the_block(person, api, ops):
    record = erasure.erase_person(EMAIL.upper(), "the person", by=ops)
    body = {"email": EMAIL, "last_name": "Q", "initial_source": "webcast"}

    refused = assert_refused(api.as_user(ops).post("/api/v1/leads/", body, format="json"), "email", status=409)
    assert "erased on request" in str(refused)
    bulk = api.as_user(ops).post("/api/v1/leads/bulk/", {"leads": [body]}, format="json")
    assert bulk.status_code in (200, 207) and bulk.json()["results"][0]["result"] == "rejected"
    checked = upload(api, ops, csv_bytes([[EMAIL, "Z", "Q", "", "", "US", "", "webcast", "no", ""]]), dry_run="true")
    assert "erased on request" in str(checked.json())
    assert not Lead.objects.filter(email=EMAIL).exists()

    erasure.lift_block(record, by=ops)

    assert api.as_user(ops).post("/api/v1/leads/", body, format="json").status_code == 201
    with pytest.raises(Refused, match="lifted"):
        erasure.lift_block(record, by=ops)


def test_only_ops_erase_and_bad_requests_are_refused_in_words(person, ops, manager, api):
    with pytest.raises(Refused) as refused:
        erasure.erase_person(EMAIL, "the person", by=manager)
    assert refused.value.status == 403
    with pytest.raises(Refused, match="who asked"):
        erasure.erase_person(EMAIL, "  ", by=ops)
    with pytest.raises(Refused, match="not a valid email"):
        erasure.erase_person("nobody", "the person", by=ops)
    assert Lead.objects.filter(email=EMAIL).exists()  # nothing half-done
    erasure.erase_person(EMAIL, "the person", by=ops)
    with pytest.raises(Refused, match="already been erased") as again:
        erasure.erase_person(EMAIL, "the person", by=ops)
    assert again.value.status == 409
    assert Erasure.objects.count() == 1


def test_the_api_erases_lists_and_lifts_for_ops_only(person, api, ops, manager):
    refused = api.as_user(manager).post("/api/v1/erasures/", {"email": EMAIL, "requested_by": "x"}, format="json")
    assert refused.status_code == 403
    assert_refused(api.as_user(ops).post("/api/v1/erasures/", {"email": EMAIL}, format="json"), "requested_by")
    assert_refused(api.as_user(ops).post("/api/v1/erasures/", {"email": "nope", "requested_by": "x"}, format="json"),
                   "email")

    made = api.as_user(ops).post("/api/v1/erasures/", {"email": EMAIL, "requested_by": "the person",
                                                       "requested_on": "2026-12-01"}, format="json")

    assert made.status_code == 201 and made.json()["leads"] == 1 and made.json()["requested_on"] == "2026-12-01"
    assert EMAIL not in str(api.as_user(ops).get("/api/v1/erasures/").json())
    lifted = api.as_user(ops).post(f"/api/v1/erasures/{made.json()['id']}/lift/")
    assert lifted.status_code == 200 and lifted.json()["lifted_at"]
    assert_refused(api.as_user(ops).post(f"/api/v1/erasures/{made.json()['id']}/lift/"), status=409)


def test_the_page_erases_after_a_confirmation_and_lifts_the_block(person, client, ops, manager,
                                                                 django_assert_max_num_queries):
    client.force_login(manager)
    assert client.get("/leads/erasures/").status_code == 403
    client.force_login(ops)
    unconfirmed = client.post("/leads/erasures/", {"email": EMAIL, "requested_by": "the person"})
    assert unconfirmed.status_code == 200 and Lead.objects.filter(email=EMAIL).exists()

    done = client.post("/leads/erasures/", {"email": EMAIL, "requested_by": "the person", "confirm": "on"},
                       follow=True)

    assert "Erased 1 lead(s) and 1 contact(s)" in done.content.decode()
    assert not Lead.objects.filter(email=EMAIL).exists()
    again = client.post("/leads/erasures/", {"email": EMAIL, "requested_by": "the person", "confirm": "on"})
    assert "already been erased" in again.content.decode()
    for n in range(30):
        Erasure.objects.create(email_hash=f"{n:064d}", requested_by="someone", requested_on=timezone.now().date(),
                               erased_by=ops, erased_at=timezone.now())
    with django_assert_max_num_queries(8):
        page = client.get("/leads/erasures/").content.decode()
    assert page.count("data-erasure=") == 31
    record = Erasure.objects.exclude(leads=0).get()
    client.post(f"/leads/erasures/{record.pk}/lift/")
    assert Erasure.objects.get(pk=record.pk).lifted_at is not None
