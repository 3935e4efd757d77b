"""Bad input to the lead, contact and activity API (docs/rules.md §10): a 400 or 404 whose JSON
body has a message (`detail`) and names the field to blame (`errors`), never a 500, and
never a partial write."""

from __future__ import annotations

import base64
import json

import pytest

from leads.models import (
    Activity,
    ActivityType,
    BlockedDomain,
    Contact,
    InitialSource,
    Lead,
    Queue,
    Status,
    StatusChange,
)
from tests.conftest import assert_refused, send
from tests.factories import ContactFactory, LeadFactory
from tests.leads.bad_bodies import BAD_ACTIVITIES, BAD_NEW_LEADS, MISSING, NEW_LEAD
from tests.leads.conftest import LEADS

pytestmark = pytest.mark.django_db

ACTIVITIES = "/api/v1/activities/"


@pytest.fixture
def cto_lead(sdr):
    """`sdr`'s lead, a CTO at a 250-person company: what a refused request must leave as it was."""
    return LeadFactory(owner=sdr, title="CTO", employee_count=250)


def row_counts() -> dict[str, int]:
    return {model.__name__: model.objects.count() for model in (Lead, Contact, Activity, StatusChange)}


def stored(lead: Lead) -> dict:
    return Lead.objects.filter(pk=lead.pk).values().get()


NOT_AN_OBJECT = {
    "malformed": '{"email": "x@acme.com",',
    "array": '[{"email": "x@acme.com"}]',
    "string": '"x@acme.com"',
    "number": "42",
    "null": "null",
    "too deeply nested": "[" * 100_000 + "]" * 100_000,
}


# --- POST /leads/ ----------------------------------------------------------------------------


@pytest.mark.parametrize("body", NOT_AN_OBJECT.values(), ids=NOT_AN_OBJECT.keys())
def test_creating_a_lead_from_a_body_that_is_not_a_json_object_is_refused(sdr_api, body):
    response = send(sdr_api, "post", LEADS, body)

    assert_refused(response)
    assert row_counts()["Lead"] == 0




@pytest.mark.parametrize(("body", "field"), BAD_NEW_LEADS.values(), ids=BAD_NEW_LEADS.keys())
def test_creating_a_lead_with_a_bad_field_is_refused_naming_the_field(sdr_api, body, field):
    response = send(sdr_api, "post", LEADS, body)

    assert_refused(response, field)
    assert row_counts()["Lead"] == 0


def test_creating_a_lead_with_both_an_owner_and_a_queue_is_refused(sdr_api, sdr):
    queue, _ = Queue.objects.get_or_create(name=Queue.INQUIRY)

    response = send(sdr_api, "post", LEADS, {**NEW_LEAD, "owner": sdr.pk, "queue": queue.pk})

    assert_refused(response, "queue")
    assert row_counts()["Lead"] == 0


def test_an_sdr_may_not_create_a_lead_owned_by_someone_else(sdr_api, other_sdr):
    response = send(sdr_api, "post", LEADS, {**NEW_LEAD, "owner": other_sdr.pk})

    assert_refused(response, "owner")
    assert row_counts()["Lead"] == 0


@pytest.mark.parametrize("email", ["someone@mailinator.com", "someone@eu.mailinator.com"])
def test_a_disposable_email_is_refused_saying_so(sdr_api, email):
    response = send(sdr_api, "post", LEADS, {**NEW_LEAD, "email": email})

    assert_refused(response, "email")
    assert "disposable" in response.json()["detail"]
    assert row_counts()["Lead"] == 0


def test_an_email_at_a_blocked_domain_is_refused_saying_so(sdr_api):
    BlockedDomain.objects.create(domain="spammy.example", reason="spam wave")

    response = send(sdr_api, "post", LEADS, {**NEW_LEAD, "email": "Someone@Spammy.example"})

    assert_refused(response, "email")
    assert "block list" in response.json()["detail"]
    assert row_counts()["Lead"] == 0


def test_a_refused_upsert_leaves_the_existing_lead_unchanged(sdr_api, cto_lead):
    before = stored(cto_lead)

    response = send(sdr_api, "post", LEADS, {"email": cto_lead.email, "title": "Intern", "employee_count": -1})

    assert_refused(response, "employee_count")
    assert stored(cto_lead) == before


# --- PATCH /leads/{id}/ --------------------------------------------------------------------------


@pytest.mark.parametrize("body", NOT_AN_OBJECT.values(), ids=NOT_AN_OBJECT.keys())
def test_editing_a_lead_with_a_body_that_is_not_a_json_object_is_refused(sdr_api, cto_lead, body):
    before = stored(cto_lead)

    response = send(sdr_api, "patch", f"{LEADS}{cto_lead.pk}/", body)

    assert_refused(response)
    assert stored(cto_lead) == before


BAD_EDITS = {
    "another initial source": ({"initial_source": InitialSource.PARTNER}, "initial_source"),
    "unknown initial source": ({"initial_source": "unknown"}, "initial_source"),
    "negative employees": ({"employee_count": -1, "title": "Intern"}, "employee_count"),
    "10**12 employees": ({"employee_count": 10**12}, "employee_count"),
    "employees as words": ({"employee_count": "many"}, "employee_count"),
    "owner as words": ({"owner": "abc"}, "owner"),
    "unknown owner": ({"owner": 999999}, "owner"),
    "blank last name": ({"last_name": ""}, "last_name"),
    "500-char last name": ({"last_name": "x" * 500, "title": "Intern"}, "last_name"),
    "NUL in title": ({"title": "In\x00tern"}, "title"),
    "unknown country": ({"country": "XX"}, "country"),
    "disposable email": ({"email": "someone@mailinator.com"}, "email"),
}


@pytest.mark.parametrize(("body", "field"), BAD_EDITS.values(), ids=BAD_EDITS.keys())
def test_editing_a_lead_with_a_bad_field_is_refused_and_changes_nothing(sdr_api, cto_lead, body, field):
    before = stored(cto_lead)

    response = send(sdr_api, "patch", f"{LEADS}{cto_lead.pk}/", body)

    assert_refused(response, field)
    assert stored(cto_lead) == before


def test_changing_the_initial_source_is_refused_with_a_message(sdr_api, cto_lead):
    response = send(sdr_api, "patch", f"{LEADS}{cto_lead.pk}/", {"initial_source": InitialSource.PARTNER})

    assert_refused(response, "initial_source")
    assert "never changes" in response.json()["detail"]
    assert Lead.objects.get(pk=cto_lead.pk).initial_source == cto_lead.initial_source


def test_giving_a_lead_the_email_of_another_lead_is_refused(sdr_api, cto_lead):
    other = LeadFactory(owner=None)
    before = stored(cto_lead)

    response = send(sdr_api, "patch", f"{LEADS}{cto_lead.pk}/", {"email": other.email.upper()})

    assert_refused(response, "email")
    assert stored(cto_lead) == before


def test_editing_a_lead_to_have_both_an_owner_and_a_queue_is_refused(sdr_api, cto_lead, sdr):
    queue, _ = Queue.objects.get_or_create(name=Queue.INQUIRY)
    before = stored(cto_lead)

    response = send(sdr_api, "patch", f"{LEADS}{cto_lead.pk}/", {"owner": sdr.pk, "queue": queue.pk})

    assert_refused(response, "queue")
    assert stored(cto_lead) == before


def test_an_sdr_may_not_hand_their_lead_to_a_teammate(sdr_api, cto_lead, teammate):
    before = stored(cto_lead)

    response = send(sdr_api, "patch", f"{LEADS}{cto_lead.pk}/", {"owner": teammate.pk})

    assert_refused(response, "owner")
    assert stored(cto_lead) == before


def test_a_lowercase_country_is_stored_uppercase(sdr_api, cto_lead):
    response = send(sdr_api, "patch", f"{LEADS}{cto_lead.pk}/", {"country": "de"})

    assert response.status_code == 200
    assert Lead.objects.get(pk=cto_lead.pk).country == "DE"


# --- Unknown ids ---------------------------------------------------------------------------------


@pytest.mark.parametrize("pk", ["999999", "abc", "99999999999999999999999", "-1", "1%00"])
def test_reading_an_unknown_lead_is_404(sdr_api, pk):
    assert_refused(sdr_api.get(f"{LEADS}{pk}/"), status=404)


def test_editing_an_unknown_lead_is_404(sdr_api):
    assert_refused(send(sdr_api, "patch", f"{LEADS}999999/", {"title": "CTO"}), status=404)


def test_changing_the_status_of_an_unknown_lead_is_404(sdr_api):
    response = send(sdr_api, "post", f"{LEADS}999999/status/", {"status": Status.ACCEPTED})

    assert_refused(response, status=404)
    assert row_counts()["StatusChange"] == 0


# --- POST /leads/{id}/status/ ----------------------------------------------------------------------


@pytest.mark.parametrize("body", NOT_AN_OBJECT.values(), ids=NOT_AN_OBJECT.keys())
def test_a_status_change_that_is_not_a_json_object_is_refused(sdr_api, cto_lead, body):
    response = send(sdr_api, "post", f"{LEADS}{cto_lead.pk}/status/", body)

    assert_refused(response)
    assert Lead.objects.get(pk=cto_lead.pk).status == Status.RAW


BAD_STATUS_CHANGES = {
    "no status": ({"reason": "other"}, "status"),
    "unknown status": ({"status": "nope"}, "status"),
    "status as a list": ({"status": [Status.ACCEPTED]}, "status"),
    "41-char status": ({"status": "x" * 41}, "status"),
    "NUL in status": ({"status": "accepted\x00"}, "status"),
    "qualified by hand": ({"status": Status.QUALIFIED}, "status"),
    "recycle without reason": ({"status": Status.RECYCLE}, "reason"),
    "recycle with an unknown reason": ({"status": Status.RECYCLE, "reason": "bored"}, "reason"),
    "unqualified without reason": ({"status": Status.UNQUALIFIED}, "reason"),
    "unqualified with a recycle reason": ({"status": Status.UNQUALIFIED, "reason": "evaluating"}, "reason"),
    "null reason": ({"status": Status.RECYCLE, "reason": None}, "reason"),
}


@pytest.mark.parametrize(("body", "field"), BAD_STATUS_CHANGES.values(), ids=BAD_STATUS_CHANGES.keys())
def test_a_bad_status_change_is_refused_and_records_nothing(sdr_api, cto_lead, body, field):
    response = send(sdr_api, "post", f"{LEADS}{cto_lead.pk}/status/", body)

    assert_refused(response, field)
    assert Lead.objects.get(pk=cto_lead.pk).status == Status.RAW
    assert row_counts()["StatusChange"] == 0


def test_a_transition_outside_the_map_is_refused_naming_both_statuses(sdr_api, cto_lead):
    response = send(sdr_api, "post", f"{LEADS}{cto_lead.pk}/status/", {"status": Status.QUALIFYING})

    assert_refused(response, "status")
    assert "Raw" in response.json()["detail"] and "Qualifying" in response.json()["detail"]
    assert Lead.objects.get(pk=cto_lead.pk).status == Status.RAW
    assert row_counts()["StatusChange"] == 0


# --- POST /activities/ -------------------------------------------------------------------------------


@pytest.mark.parametrize("body", NOT_AN_OBJECT.values(), ids=NOT_AN_OBJECT.keys())
def test_an_activity_that_is_not_a_json_object_is_refused(sdr_api, body):
    response = send(sdr_api, "post", ACTIVITIES, body)

    assert_refused(response)
    assert row_counts()["Activity"] == 0




@pytest.mark.parametrize(("extra", "field"), BAD_ACTIVITIES.values(), ids=BAD_ACTIVITIES.keys())
def test_an_activity_with_a_bad_field_is_refused_naming_the_field(sdr_api, cto_lead, extra, field):
    body = {"lead": cto_lead.pk, "type": ActivityType.PRICING_PAGE_VISIT, **extra}
    body = {key: value for key, value in body.items() if value is not MISSING}

    response = send(sdr_api, "post", ACTIVITIES, body)

    assert_refused(response, field)
    assert row_counts()["Activity"] == 0


@pytest.mark.parametrize(
    "people",
    [{}, {"lead": 1, "email": "x@acme.com"}, {"lead": 1, "contact": 1}, {"contact": 1, "email": "x@acme.com"}],
    ids=["none", "lead and email", "lead and contact", "contact and email"],
)
def test_an_activity_must_name_exactly_one_person(sdr_api, people):
    response = send(sdr_api, "post", ACTIVITIES, {"type": ActivityType.CALL, **people})

    assert_refused(response, "non_field_errors")
    assert row_counts()["Activity"] == 0


@pytest.mark.parametrize(
    "person",
    [{"lead": 999999}, {"contact": 999999}, {"lead": 10**30}, {"email": "nobody@nowhere.example"}],
    ids=["lead", "contact", "lead beyond bigint", "email"],
)
def test_an_activity_for_an_unknown_person_is_404(sdr_api, person):
    response = send(sdr_api, "post", ACTIVITIES, {"type": ActivityType.CALL, **person})

    assert_refused(response, status=404)
    assert row_counts()["Activity"] == 0


def test_an_activity_with_a_malformed_lead_id_is_refused(sdr_api):
    response = send(sdr_api, "post", ACTIVITIES, {"type": ActivityType.CALL, "lead": "abc"})

    assert_refused(response, "lead")


# --- POST /contacts/ ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"last_name": "Newman"}, "initial_source"),
        ({"last_name": "Newman", "initial_source": "unknown"}, "initial_source"),
        ({"last_name": "Newman", "initial_source": InitialSource.WEBCAST, "account": 999999}, "account"),
        ({"last_name": "Newman", "initial_source": InitialSource.WEBCAST, "email": "a@mailinator.com"}, "email"),
        ({"initial_source": InitialSource.WEBCAST}, "last_name"),
    ],
    ids=["no initial source", "unknown initial source", "unknown account", "disposable email", "no last name"],
)
def test_creating_a_contact_with_a_bad_field_is_refused(sdr_api, body, field):
    response = send(sdr_api, "post", "/api/v1/contacts/", body)

    assert_refused(response, field)
    assert row_counts()["Contact"] == 0


def test_editing_a_contacts_initial_source_is_refused(sdr_api, sdr):
    contact = ContactFactory(owner=sdr, initial_source=InitialSource.WEBCAST)

    response = send(sdr_api, "patch", f"/api/v1/contacts/{contact.pk}/", {"initial_source": InitialSource.PARTNER})

    assert_refused(response, "initial_source")
    assert Contact.objects.get(pk=contact.pk).initial_source == InitialSource.WEBCAST


# --- Filters and pagination of the lists ----------------------------------------------------------


def cursor(value, pk) -> str:
    return base64.urlsafe_b64encode(json.dumps([value, pk]).encode()).decode().rstrip("=")


BAD_LEAD_FILTERS = {
    "unknown status": ("status=nope", "status"),
    "one unknown status of two": ("status=mql&status=nope", "status"),
    "owner as words": ("owner=abc", "owner"),
    "owner as a superscript digit": ("owner=%C2%B2", "owner"),
    "owner beyond bigint": ("owner=99999999999999999999999", "owner"),
    "owner beyond bigint with a view": ("view=my_mqls&owner=99999999999999999999999", "owner"),
    "unknown view": ("view=nope", "view"),
    "a contact view": ("view=my_mql_contacts", "view"),
    "queue as words": ("queue=abc", "queue"),
    "queue beyond bigint": ("queue=99999999999999999999999", "queue"),
    "team beyond bigint": ("view=my_mqls&team=99999999999999999999999", "team"),
    "unknown segment": ("segment=nope", "segment"),
    "unknown region": ("region=nope", "region"),
    "NUL in search": ("search=a%00b", "search"),
    "101-char search": ("search=" + "a" * 101, "search"),
    "ordering by password": ("ordering=password", "ordering"),
    "ordering twice descending": ("ordering=--score", "ordering"),
    "ordering by two fields": ("ordering=score,last_name", "ordering"),
    "garbage cursor": ("cursor=garbage", "cursor"),
    "cursor of another ordering": (f"ordering=score&cursor={cursor('Smith', 1)}", "cursor"),
    "cursor with a NUL": (f"ordering=last_name&cursor={cursor('a' + chr(0), 1)}", "cursor"),
    "cursor with a lone surrogate": (f"ordering=last_name&cursor={cursor(chr(0xD800), 1)}", "cursor"),
    "cursor at the end of time": (f"ordering=created_at&cursor={cursor('9999-12-31T23:59:59-10:00', 1)}", "cursor"),
    "cursor without an id": (f"ordering=score&cursor={cursor(5, None)}", "cursor"),
    "page size 0": ("page_size=0", "page_size"),
    "page size 1000": ("page_size=1000", "page_size"),
    "page size as words": ("page_size=ten", "page_size"),
}


@pytest.mark.parametrize(("query", "field"), BAD_LEAD_FILTERS.values(), ids=BAD_LEAD_FILTERS.keys())
def test_a_bad_lead_list_filter_is_refused_naming_it(sdr_api, cto_lead, query, field):
    assert_refused(sdr_api.get(f"{LEADS}?{query}"), field)


@pytest.mark.parametrize(
    ("url", "field"),
    [
        ("/api/v1/contacts/?account=99999999999999999999999", "account"),
        ("/api/v1/contacts/?view=my_mqls", "view"),
        ("/api/v1/accounts/?owner=99999999999999999999999", "owner"),
        ("/api/v1/activities/?type=nope", "type"),
        ("/api/v1/activities/?lead=99999999999999999999999", "lead"),
        ("/api/v1/activities/?ordering=password", "ordering"),
    ],
    ids=["contact account", "contact view", "account owner", "activity type", "activity lead", "activity ordering"],
)
def test_a_bad_filter_on_other_lists_is_refused_naming_it(sdr_api, url, field):
    assert_refused(sdr_api.get(url), field)


def test_a_body_over_the_limit_answers_413_json_and_writes_nothing(api, integration, settings):
    settings.DATA_UPLOAD_MAX_MEMORY_SIZE = 2_000
    body = '{"leads": [' + ",".join(f'{{"email": "a{n}@firm.com", "last_name": "Doe"}}' for n in range(100)) + "]}"

    response = api.as_user(integration).generic("POST", "/api/v1/leads/bulk/", body, content_type="application/json")

    assert response.status_code == 413 and response["Content-Type"] == "application/json"
    assert "the API takes at most 2,000 bytes" in response.json()["detail"]
    assert not Lead.objects.exists()
