"""Bulk items are validated by leads.serializers.ItemValidator, which visits only the
fields an item names: what it accepts, and every error it gives, must be what the
serializer it wraps would give."""

from __future__ import annotations

import threading
from datetime import timedelta

import pytest
from django.utils import timezone
from rest_framework import serializers
from rest_framework.exceptions import ValidationError
from rest_framework.validators import ProhibitSurrogateCharactersValidator

from leads.api.leads import LeadViewSet
from leads.api.serializers import (
    ActivityFields,
    AsciiFirstSurrogateCheck,
    ItemValidator,
    LeadSerializer,
    input_validator,
)
from leads.models import ActivityType, InitialSource, Queue
from tests.leads.bad_bodies import BAD_ACTIVITIES, BAD_NEW_LEADS, MISSING, NEW_LEAD

pytestmark = pytest.mark.django_db

GOOD_LEADS = {
    "the usual four": {**NEW_LEAD, "country": "de"},
    "every writable field": {
        **NEW_LEAD, "first_name": " Ann ", "title": "VP Sales", "phone": 49301234, "company": "Acme",
        "state": "Berlin", "city": "Berlin", "employee_count": "250", "industry": "Software",
        "public_sector": "true", "last_interesting_moment": "Webinar", "inactive": False, "opted_out": 0,
        "last_interesting_moment_at": "2026-01-05T10:00:00+01:00", "high_priority": "yes",
    },
    "blanks and nulls": {**NEW_LEAD, "first_name": "", "title": "  ", "employee_count": None, "owner": None,
                         "queue": None, "country": ""},
    "read-only and unknown keys": {**NEW_LEAD, "status": "mql", "score": 500, "id": 7, "colour": "blue"},
    "only an email": {"email": "x@acme.com"},
    "nothing": {},
}
GOOD_ACTIVITIES = {
    "type only": {"type": ActivityType.PRICING_PAGE_VISIT},
    "everything": {"type": ActivityType.TRIAL_REQUEST, "occurred_at": "2026-01-05T10:00:00Z",
                   "details": {"plan": "premium", "seats": [1, 2]}, "source_system": "web"},
    "unknown keys": {"type": ActivityType.CALL, "lead": 5, "colour": "blue"},
}


def outcome(validator, data) -> tuple[str, object]:
    try:
        return "valid", validator.run_validation(data)
    except ValidationError as invalid:
        return "invalid", invalid.detail


def bad_activity(extra: dict) -> dict:
    body = {"type": ActivityType.PRICING_PAGE_VISIT, **extra}
    return {key: value for key, value in body.items() if value is not MISSING}


@pytest.mark.parametrize("body", [*GOOD_LEADS.values(), *(body for body, _ in BAD_NEW_LEADS.values())],
                         ids=[*GOOD_LEADS, *BAD_NEW_LEADS])
def test_a_lead_item_validates_exactly_as_the_lead_serializer(body):
    # A serializer of its own for each: ItemValidator changes the text fields' surrogate check.
    assert outcome(ItemValidator(LeadSerializer(partial=True)), dict(body)) == outcome(LeadSerializer(partial=True),
                                                                                        dict(body))


def test_a_lead_item_with_an_owner_or_a_queue_validates_exactly_as_the_lead_serializer(sdr):
    validator = ItemValidator(LeadSerializer(partial=True))
    inquiry = Queue.objects.get(name=Queue.INQUIRY)
    for body in ({**NEW_LEAD, "owner": sdr.pk}, {**NEW_LEAD, "queue": inquiry.pk},
                 {**NEW_LEAD, "owner": sdr.pk, "queue": inquiry.pk}):  # both: refused by validate()
        assert outcome(validator, body) == outcome(LeadSerializer(partial=True), body)
    assert outcome(validator, {**NEW_LEAD, "owner": sdr.pk})[1]["owner"] == sdr


@pytest.mark.parametrize("body", [*GOOD_ACTIVITIES.values(), *(bad_activity(extra) for extra, _ in
                                                                BAD_ACTIVITIES.values())],
                         ids=[*GOOD_ACTIVITIES, *BAD_ACTIVITIES])
def test_an_activity_item_validates_exactly_as_the_activity_fields(body):
    assert outcome(ItemValidator(ActivityFields()), dict(body)) == outcome(ActivityFields(), dict(body))


def test_each_activity_gets_its_own_default_details():
    validator = ItemValidator(ActivityFields())
    first, second = (validator.run_validation({"type": ActivityType.CALL}) for _ in range(2))

    assert first == {"type": "call", "details": {}, "source_system": "", "external_id": ""}
    first["details"]["x"] = 1
    assert second["details"] == {}


def test_bulk_items_get_the_results_and_messages_the_serializers_give():
    items = [
        {**NEW_LEAD, "activities": [{"type": "pricing_page_visit"}, {"type": "teleport"}, "call", {}]},
        {**NEW_LEAD, "employee_count": -1, "country": "XX", "activities": "many"},
        {"last_name": "No email", "activities": [{"type": "call", "occurred_at": "9999-12-31T23:59:59Z"}]},
        {**NEW_LEAD, "email": None},
        {**NEW_LEAD, "activities": [{"type": "call", "occurred_at": (timezone.now() - timedelta(days=1)).isoformat(),
                                     "details": {"a": 1}}]},
        {**NEW_LEAD, "initial_source": InitialSource.TRIAL_SAAS, "activities": None},
        [],
    ]
    for item in items:
        plain = LeadViewSet._validate_bulk_item(item, LeadSerializer(partial=True), ActivityFields())
        lean = LeadViewSet._validate_bulk_item(item, ItemValidator(LeadSerializer(partial=True)),
                                               ItemValidator(ActivityFields()))
        assert lean == plain


class UniqueTogetherLike:
    """A serializer-level validator: size 99 is refused for any code."""

    def __call__(self, attrs: dict) -> None:
        if attrs.get("size") == 99:
            raise serializers.ValidationError({"size": ["Not 99."]})


class Unusual(serializers.Serializer):
    """What LeadSerializer and ActivityFields do not use: serializer-level validators, a
    validate_<field> method, a hidden field, a default, a field read from another key."""

    code = serializers.CharField(max_length=5)
    size = serializers.IntegerField(required=False, default=3)
    note = serializers.CharField(required=False, source="remark")
    stamp = serializers.HiddenField(default="hidden")
    tags = serializers.ListField(child=serializers.CharField(), required=False)

    class Meta:
        validators = [UniqueTogetherLike()]

    def validate_code(self, value: str) -> str:
        if value == "nope":
            raise serializers.ValidationError("No nope.")
        return value.upper()


@pytest.mark.parametrize("partial", [False, True])
@pytest.mark.parametrize("body", [
    {"code": "ab"}, {"code": "ab", "size": "7", "note": "n", "stamp": "given", "tags": ["x"]},
    {"code": "nope"}, {"code": "toolong"}, {}, {"code": "ab", "size": 99}, {"code": "ab", "tags": "x"},
])
def test_an_unusual_serializer_validates_exactly_as_itself(body, partial):
    assert outcome(ItemValidator(Unusual(partial=partial)), dict(body)) == outcome(Unusual(partial=partial),
                                                                                    dict(body))


@pytest.mark.parametrize("text", ["Newman", "Zoë Núñez", "\ud800", "Zoë\udfff", "ab\ud83d\ude00", "", " x "])
def test_text_fields_refuse_surrogates_as_drf_does(text):
    body = {**NEW_LEAD, "last_name": text, "title": text, "company": text}

    assert outcome(ItemValidator(LeadSerializer(partial=True)), body) == outcome(LeadSerializer(partial=True), body)


def test_the_text_fields_check_ascii_text_at_once():
    validator = ItemValidator(LeadSerializer(partial=True))
    checks = [type(check) for field in validator.serializer._writable_fields for check in field.validators]

    assert AsciiFirstSurrogateCheck in checks and ProhibitSurrogateCharactersValidator not in checks


# --- one validator per thread for POST leads/ and POST activities/ ----------------------------

def test_a_thread_reuses_its_validator_with_the_request_of_the_moment():
    first, second = object(), object()

    validator = input_validator(LeadSerializer, first, partial=True)
    again = input_validator(LeadSerializer, second, partial=True)

    assert again is validator
    assert validator.serializer.context == {"request": second}
    assert validator.serializer.partial
    assert input_validator(LeadSerializer, second) is not validator  # other arguments, other validator


def test_each_thread_has_its_own_validator():
    here = input_validator(ActivityFields, object())
    made = []
    thread = threading.Thread(target=lambda: made.append(input_validator(ActivityFields, object())))
    thread.start()
    thread.join()

    assert made and made[0] is not here


def test_a_refused_body_leaves_nothing_behind_for_the_next(api, sdr):
    client = api.as_user(sdr)
    refused = client.post("/api/v1/leads/", {**NEW_LEAD, "email": "a@acme.com", "title": "x" * 300,
                                            "employee_count": 250}, format="json")
    accepted = client.post("/api/v1/leads/", {"email": "b@acme.com", "last_name": "Bee",
                                             "initial_source": InitialSource.WEBCAST}, format="json")

    assert refused.status_code == 400 and "title" in refused.json()["errors"]
    assert accepted.status_code == 201, accepted.content
    assert accepted.json()["employee_count"] is None and accepted.json()["title"] == ""
