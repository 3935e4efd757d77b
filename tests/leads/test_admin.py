"""Ops' admin shows sequences, enrolments, events and tombstones; only sequences are edited there."""

from __future__ import annotations

import pytest
from django.test import Client

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
    EnrollmentFactory()
    assert ops_client.get(f"/admin/leads/{model}/").status_code == 200


def test_ops_build_a_sequence_with_steps_in_the_admin(ops_client):
    assert ops_client.get("/admin/leads/sequence/add/").status_code == 200


@pytest.mark.parametrize("model", ["enrollment", "sequenceevent", "tombstone"])
def test_enrolments_events_and_tombstones_cannot_be_added_by_hand(ops_client, model):
    assert ops_client.get(f"/admin/leads/{model}/add/").status_code == 403
