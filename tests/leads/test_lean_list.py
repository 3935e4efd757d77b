"""The lead list renders its rows with leads/listing.py instead of LeadSerializer, for
speed; the JSON must be byte for byte what LeadSerializer renders, for every kind of lead,
and a page must cost the same queries however many rows it holds. A recorded activity's
answer is built the same way and must equal ActivitySerializer's."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone
from rest_framework import serializers
from rest_framework.renderers import JSONRenderer

from leads.api.listing import render_activity, render_leads
from leads.api.serializers import ActivitySerializer, LeadSerializer
from leads.models import Activity, ActivityType, InitialSource, Lead, Queue, Status
from sdrcrm.models import Region, Segment
from tests.factories import AccountFactory, ActivityFactory, ContactFactory, LeadFactory
from tests.leads.conftest import LEADS, MAX_LIST_QUERIES

pytestmark = pytest.mark.django_db

# A whole second (isoformat then leaves out the microseconds) and one with microseconds, at
# the two ends of Berlin's summer time.
ROUND = datetime(2025, 3, 30, 1, 0, 0, tzinfo=UTC)
FRACTION = datetime(2025, 10, 26, 0, 59, 59, 123456, tzinfo=UTC)


@pytest.fixture
def varied_leads(sdr, ops):
    """Every status twice, once with every optional field filled in and once with each
    left empty; owned or queued, with and without an account."""
    queue = Queue.objects.create(name="Lean list queue")
    account = AccountFactory()
    contact = ContactFactory(owner=sdr)
    leads = []
    for i, status in enumerate(Status):
        moment = ROUND if i % 2 else FRACTION
        owned, queued = {"owner": sdr}, {"owner": None, "queue": queue}
        filled = {
            "account": account, "converted_to": contact, "title": "Dévelopeur ☃", "employee_count": 250,
            "public_sector": True, "high_priority": True, "inactive": True, "opted_out": True, "is_passive": False,
            "status_reason": "other", "score": 35 - i * 7, "lead_source": InitialSource.CONTACT_REQUEST,
            "mql_at": moment, "last_mql_at": moment + timedelta(hours=1), "last_interesting_moment": "Webcast",
            "last_interesting_moment_at": moment, "last_handraise_at": moment,
            "active_until": moment + timedelta(days=60), "sla_due_at": moment + timedelta(hours=4),
            "sla_breached_at": moment + timedelta(hours=5), "spam_marked_at": moment, "spam_marked_by": ops,
            "spam_block_domain": True, "segment": Segment.SMB, "region": Region.AMER, "sub_region": "east",
        }
        leads.append(LeadFactory(status=status, status_changed_at=moment - timedelta(days=i),
                                 **(owned if i % 2 else queued), **filled))
        leads.append(LeadFactory(status=status, status_changed_at=moment - timedelta(days=i, hours=1),
                                 **(queued if i % 2 else owned)))
    # MQLs are owned by the SDR once filled in and once empty above; one more for the view.
    leads.append(LeadFactory(status=Status.MQL, owner=sdr, account=account, mql_at=FRACTION))
    return leads


def serializer_body(response) -> bytes:
    """The page `response` shows, rendered by LeadSerializer row by row instead."""
    body = response.json()
    ids = [row["id"] for row in body["results"]]
    leads = Lead.objects.in_bulk(ids)
    context = {"request": response.renderer_context["request"]}
    results = [LeadSerializer(leads[pk], context=context).data for pk in ids]
    return JSONRenderer().render({"next": body["next"], "results": results})


@pytest.mark.parametrize("query", ["?page_size=200", "?view=my_mqls", "?ordering=score&page_size=3"])
@pytest.mark.parametrize("user_fixture", ["ops", "sdr"])
def test_the_lead_list_renders_what_the_serializer_renders(request, api, varied_leads, query, user_fixture):
    response = api.as_user(request.getfixturevalue(user_fixture)).get(LEADS + query)

    assert response.status_code == 200
    assert response.json()["results"], "the page should not be empty"
    assert response.content == serializer_body(response)


def test_every_lead_shows_up_with_the_serializers_fields_and_values(api, ops, varied_leads):
    response = api.as_user(ops).get(f"{LEADS}?page_size=200")

    rows = {row["id"]: row for row in response.json()["results"]}
    assert set(rows) == {lead.pk for lead in varied_leads}
    for lead in Lead.objects.all():
        expected = json.loads(JSONRenderer().render(LeadSerializer(lead).data))
        # Items, not dicts: dict equality would not see keys in another order.
        assert list(rows[lead.pk].items()) == list(expected.items())


def test_the_lead_list_shows_datetimes_in_the_current_time_zone_like_the_serializer(api, ops, varied_leads):
    with timezone.override("Europe/Berlin"):
        response = api.as_user(ops).get(f"{LEADS}?page_size=200")

        assert response.content == serializer_body(response)
    assert response.json()["results"][0]["status_changed_at"].endswith(("+01:00", "+02:00"))


def test_the_lean_rows_have_exactly_the_serializers_fields_in_its_order(sdr):
    # leads/listing.py derives its columns from LeadSerializer.Meta: a field the serializer
    # gains must show up in the lean rows too, in the same place.
    lead = LeadFactory(owner=sdr)

    assert list(render_leads([lead])[0]) == list(LeadSerializer().fields)


# The fields whose rendering of a database value is the value itself (a datetime aside):
# what leads/listing.py copies. A method field or a custom to_representation needs code there.
# (BigIntegerField renders ids as text with COERCE_BIGINT_TO_STRING; the comparisons above
# would show that.)
PLAIN_FIELDS = (serializers.CharField, serializers.ChoiceField, serializers.IntegerField, serializers.BigIntegerField,
                serializers.BooleanField, serializers.PrimaryKeyRelatedField, serializers.DateTimeField)


def test_every_lead_serializer_field_is_a_column_the_lean_rows_copy():
    fields = LeadSerializer().fields

    unusual = {name: type(field).__name__ for name, field in fields.items()
               if type(field).to_representation not in {kind.to_representation for kind in PLAIN_FIELDS}}
    assert unusual == {}


@pytest.mark.parametrize("query", ["", "?view=my_mqls"])
def test_a_lead_list_page_takes_the_same_queries_for_3_or_60_leads(api, sdr, query):
    # Every relation a row shows is filled in, so a per-row lookup would show.
    account, contact = AccountFactory(), ContactFactory(owner=sdr)
    client = api.as_user(sdr)
    assert client.get(LEADS).status_code == 200  # the token's user is cached from here on
    counts = []
    for rows in (3, 57):  # 3, then 60 in all
        LeadFactory.create_batch(rows, owner=sdr, status=Status.MQL, account=account, converted_to=contact,
                                 spam_marked_by=sdr, created_by=sdr)
        with CaptureQueriesContext(connection) as queries:
            response = client.get(LEADS + query)
        assert len(response.json()["results"]) == min(Lead.objects.count(), 50)
        counts.append(len(queries))

    assert counts[0] == counts[1] <= MAX_LIST_QUERIES


@pytest.mark.parametrize("expected_code", [201, 200])
def test_post_leads_answers_with_what_the_serializer_renders(api, integration, expected_code):
    client = api.as_user(integration)
    body = {"email": "lean@firm.de", "last_name": "Doe", "title": "VP Sales", "country": "DE",
            "initial_source": "trial_saas"}
    if expected_code == 200:
        assert client.post(LEADS, body, format="json").status_code == 201  # then it is an update
    response = client.post(LEADS, {**body, "company": "Firm"}, format="json")

    assert response.status_code == expected_code
    lead = Lead.objects.get(email="lean@firm.de")
    assert response.content == JSONRenderer().render(LeadSerializer(lead).data)


# --- The answer to a recorded activity (leads/listing.py's render_activity) ------------------

ACTIVITIES = "/api/v1/activities/"


def activity_serializer_body(response) -> bytes:
    return JSONRenderer().render(ActivitySerializer(Activity.objects.get(pk=response.json()["id"])).data)


@pytest.mark.parametrize("zone", ["UTC", "Europe/Berlin"])
@pytest.mark.parametrize("moment", [ROUND, FRACTION, None])
def test_a_recorded_activity_answers_what_the_serializer_renders(api, sdr, zone, moment):
    lead = LeadFactory(owner=sdr)
    # The answer shows the details as sent; the serializer below reads them back, in
    # PostgreSQL's jsonb order (shorter keys first): sent in that order, they compare.
    body = {"lead": lead.pk, "type": ActivityType.WEBCAST_ATTENDED_HIGH_INTENT,
            "details": {"n": [1, 2.5], "title": "Dévelopeur ☃"}, "source_system": "marketo",
            "external_id": f"ext-{zone}-{moment}"}
    if moment:
        body["occurred_at"] = moment.isoformat()

    with timezone.override(zone):
        response = api.as_user(sdr).post(ACTIVITIES, body, format="json")

        assert response.status_code == 201
        assert response.content == activity_serializer_body(response)
        assert response.json()["contact"] is None
        if zone != "UTC":
            assert response.json()["occurred_at"].endswith(("+01:00", "+02:00"))


def test_an_activity_on_a_contact_and_one_sent_again_answer_what_the_serializer_renders(api, sdr):
    contact = ContactFactory(owner=sdr)
    body = {"contact": contact.pk, "type": ActivityType.PRICING_PAGE_VISIT, "external_id": "again",
            "source_system": "web"}
    client = api.as_user(sdr)

    first, again = client.post(ACTIVITIES, body, format="json"), client.post(ACTIVITIES, body, format="json")

    assert (first.status_code, again.status_code) == (201, 200)
    assert first.json()["lead"] is None and first.json()["details"] == {}
    assert first.content == again.content == activity_serializer_body(first)


def test_the_activity_answer_has_exactly_the_serializers_fields_in_its_order(sdr):
    activity = ActivityFactory(lead=LeadFactory(owner=sdr))

    assert list(render_activity(activity)) == list(ActivitySerializer().fields)


def test_every_activity_serializer_field_is_a_column_the_lean_answer_copies():
    # A JSONField renders its value as it is (binary=False).
    plain = {kind.to_representation for kind in (*PLAIN_FIELDS, serializers.JSONField)}
    fields = ActivitySerializer().fields

    assert {name: type(field).__name__ for name, field in fields.items()
            if type(field).to_representation not in plain or getattr(field, "binary", False)} == {}
