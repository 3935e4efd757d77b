"""Ops' admin shows sequences, enrolments, events and tombstones; only sequences are edited there."""

from __future__ import annotations

import pytest
from django.test import Client
from django.utils import timezone

from leads.models import Sequence, SequenceEvent, Tombstone
from tests.factories import EnrollmentFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def ops_client(ops) -> Client:
    ops.is_staff = True
    ops.is_superuser = True
    ops.save()
    client = Client()
    client.force_login(ops)
    return client


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
