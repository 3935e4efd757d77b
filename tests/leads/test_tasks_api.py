"""`/api/v1/tasks/`: one's own tasks, about the records one may change."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from leads.models import Task
from tests.conftest import assert_refused
from tests.factories import ContactFactory, LeadFactory

pytestmark = pytest.mark.django_db

URL = "/api/v1/tasks/"


def due(hours: float = 2) -> str:
    return (timezone.now() + timedelta(hours=hours)).isoformat()


def test_add_list_and_mark_done(sdr_api, sdr):
    lead = LeadFactory(owner=sdr)

    created = sdr_api.post(URL, {"title": "Call back", "kind": "call", "due_at": due(), "lead": lead.pk},
                           format="json")

    assert created.status_code == 201
    body = created.json()
    assert (body["title"], body["kind"], body["lead"], body["owner"], body["done_at"]) == (
        "Call back", "call", lead.pk, sdr.pk, None)
    assert [t["id"] for t in sdr_api.get(URL).json()["results"]] == [body["id"]]

    done = sdr_api.post(f"{URL}{body['id']}/done/")
    assert done.status_code == 200 and done.json()["done_at"] is not None
    assert sdr_api.get(URL).json()["results"] == []
    assert [t["id"] for t in sdr_api.get(URL, {"done": "true"}).json()["results"]] == [body["id"]]
    assert sdr_api.post(f"{URL}{body['id']}/done/").status_code == 404  # no longer open


def test_snooze_moves_it_a_day(sdr_api, sdr):
    task = Task.objects.create(owner=sdr, title="x", due_at=timezone.now() + timedelta(hours=5))
    answer = sdr_api.post(f"{URL}{task.pk}/snooze/").json()
    assert Task.objects.get(pk=task.pk).due_at == task.due_at + timedelta(days=1)
    assert answer["id"] == task.pk


def test_a_task_about_a_record_one_may_not_change_is_a_404(sdr_api, teammate, other_sdr):
    readable_only = LeadFactory(owner=teammate)  # the same team: readable, not editable
    others = LeadFactory(owner=other_sdr)
    for lead in (readable_only, others):
        response = sdr_api.post(URL, {"title": "x", "due_at": due(), "lead": lead.pk}, format="json")
        assert response.status_code == 404
    assert not Task.objects.exists()


def test_another_users_task_is_not_found(sdr_api, teammate):
    theirs = Task.objects.create(owner=teammate, title="x", due_at=timezone.now())
    assert sdr_api.get(f"{URL}{theirs.pk}/").status_code == 404
    assert sdr_api.post(f"{URL}{theirs.pk}/done/").status_code == 404
    assert sdr_api.post(f"{URL}{theirs.pk}/snooze/").status_code == 404
    assert Task.objects.get(pk=theirs.pk).done_at is None


@pytest.mark.parametrize(("body", "field"), [
    ({"title": "x", "due_at": "soon"}, "due_at"),
    ({"title": "", "due_at": "2030-01-01T10:00:00Z"}, "title"),
    ({"title": "x", "kind": "fax", "due_at": "2030-01-01T10:00:00Z"}, "kind"),
    ({"title": "x", "due_at": "2020-01-01T10:00:00Z"}, "due_at"),
    ({"title": "x", "due_at": "9999-12-31T23:59:00Z"}, "due_at"),
    ({"title": "x", "due_at": "2030-01-01T10:00:00Z", "lead": 1, "contact": 1}, "contact"),
])
def test_bad_input_is_a_400_naming_the_field_and_writes_nothing(sdr_api, body, field):
    assert_refused(sdr_api.post(URL, body, format="json"), field)
    assert not Task.objects.exists()


def test_a_task_about_a_contact(sdr_api, sdr):
    contact = ContactFactory(owner=sdr)
    response = sdr_api.post(URL, {"title": "Send the deck", "kind": "email", "due_at": due(),
                                  "contact": contact.pk}, format="json")
    assert response.status_code == 201 and response.json()["contact"] == contact.pk


@pytest.mark.parametrize("pk", ["null,null", "abc", "99999999999999999999999"])
def test_an_id_that_is_no_number_is_a_404_not_a_500(sdr_api, pk):
    assert sdr_api.post(f"{URL}{pk}/done/").status_code == 404
    assert sdr_api.post(f"{URL}{pk}/snooze/").status_code == 404


def test_a_lead_id_beyond_any_id_is_a_400_not_a_500(sdr_api):
    response = sdr_api.post(URL, {"title": "x", "due_at": due(), "lead": 10**20}, format="json")
    assert_refused(response, "lead")
