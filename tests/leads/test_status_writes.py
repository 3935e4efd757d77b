"""leads.queries writes a lead's or contact's fields, and its status moves, with
hand-written SQL (every ingested activity does): they must write what the ORM's update
and StatusChange's save write, on either database."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.db.models import F
from django.utils import timezone

from leads import queries
from leads.models import Contact, Lead, Queue, Status, StatusChange
from tests.factories import ContactFactory, LeadFactory, UserFactory

pytestmark = pytest.mark.django_db

NOW = timezone.now().replace(microsecond=123456)


def stored(model, pk: int) -> dict:
    return {key: value for key, value in model.all_objects.filter(pk=pk).values().get().items() if key != "id"}


def values(owner, queue) -> dict:
    # Values of each kind a status move writes: a datetime, a NULL, a bool, an int, a
    # choices member, a foreign key by id and by object.
    return {"score": 95, "status": Status.MQL, "status_reason": "", "status_changed_at": NOW, "mql_at": NOW,
            "last_handraise_at": NOW - timedelta(days=1), "active_until": None, "is_passive": False,
            "owner_id": owner.pk, "queue": queue, "updated_at": NOW}


@pytest.mark.parametrize("factory", [LeadFactory, ContactFactory])
def test_the_update_writes_what_the_orm_update_writes(factory):
    owner = UserFactory()
    queue = Queue.objects.create(name="Test queue")
    ours, theirs = factory(status=Status.RAW, score=5), factory(status=Status.RAW, score=5)
    model = type(ours)
    before = stored(model, ours.pk)
    written = {model._meta.get_field(name).attname for name in values(owner, None)}

    assert queries.update_person(model, ours.pk, values(owner, None), status=Status.RAW) == 1
    assert model.objects.filter(pk=theirs.pk, status=Status.RAW).update(**values(owner, None)) == 1
    after = stored(model, ours.pk)
    assert {k: after[k] for k in written} == {k: stored(model, theirs.pk)[k] for k in written}
    assert {k: v for k, v in after.items() if k not in written} == {
        k: v for k, v in before.items() if k not in written}
    if model is Lead:
        queries.update_person(model, ours.pk, {"owner_id": None, "queue": queue})
        assert (stored(model, ours.pk)["owner_id"], stored(model, ours.pk)["queue_id"]) == (None, queue.pk)


def test_the_update_leaves_a_row_in_another_status_or_deleted_alone():
    lead, deleted = LeadFactory(status=Status.MQL, score=90), LeadFactory(status=Status.RAW, deleted_at=NOW)
    before = stored(Lead, lead.pk), stored(Lead, deleted.pk)

    assert queries.update_person(Lead, lead.pk, {"score": 5}, status=Status.RAW) == 0
    assert queries.update_person(Lead, deleted.pk, {"score": 5}) == 0
    assert (stored(Lead, lead.pk), stored(Lead, deleted.pk)) == before


def test_an_sql_expression_is_refused():
    lead = LeadFactory(score=5)
    with pytest.raises(TypeError, match="score"):
        queries.update_person(Lead, lead.pk, {"score": F("score") + 1})


@pytest.mark.parametrize("factory", [LeadFactory, ContactFactory])
def test_a_move_writes_the_row_and_the_history_save_writes(factory):
    person = factory(status=Status.RAW, score=5)
    model, field = type(person), person.PERSON_FIELD
    by = UserFactory()
    history = StatusChange(**{field: person}, old=Status.RAW, new=Status.MQL, reason="", cause="score", by=by,
                           at=NOW)

    assert queries.move_person(model, person.pk, Status.RAW, {"status": Status.MQL, "score": 95}, history) is True

    assert (model.objects.get(pk=person.pk).status, model.objects.get(pk=person.pk).score) == (Status.MQL, 95)
    assert history.pk is not None and history._state.adding is False
    saved = StatusChange(**{field: person}, old=Status.RAW, new=Status.MQL, reason="", cause="score", by=by, at=NOW)
    saved.save()
    mine, its = (StatusChange.objects.filter(pk=pk).values().get() for pk in (history.pk, saved.pk))
    assert {k: v for k, v in mine.items() if k != "id"} == {k: v for k, v in its.items() if k != "id"}


def test_a_move_from_a_status_left_meanwhile_writes_nothing():
    lead = LeadFactory(status=Status.ACCEPTED, score=5)
    history = StatusChange(lead=lead, old=Status.RAW, new=Status.MQL, reason="", cause="score", at=NOW)

    assert queries.move_person(Lead, lead.pk, Status.RAW, {"status": Status.MQL, "score": 95}, history) is False

    assert (Lead.objects.get(pk=lead.pk).status, Lead.objects.get(pk=lead.pk).score) == (Status.ACCEPTED, 5)
    assert history.pk is None and not StatusChange.objects.exists() and not Contact.objects.exists()
