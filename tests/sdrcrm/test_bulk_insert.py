"""sdrcrm.bulk_insert.insert_new writes what bulk_create writes (on PostgreSQL it builds the
statement itself; on SQLite it is bulk_create); insert_one writes what save() writes,
insert_few what bulk_create writes."""

from __future__ import annotations

from datetime import timedelta
from unittest import mock

import pytest
from django.db import IntegrityError, connection, models, transaction
from django.db.models import QuerySet
from django.db.models.signals import post_save
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from leads.models import Account, Activity, Lead, Queue, Status, StatusChange
from routing.models import RoutingDecision
from scoring.models import ScoreEntry
from sdrcrm.bulk_insert import (
    FEW,
    db_value,
    insert_few,
    insert_fields,
    insert_new,
    insert_one,
    new_row,
    prepared_values,
    value_recipe,
)
from sdrcrm.models import Segment
from tests.conftest import on_postgres

pytestmark = pytest.mark.django_db

NOW = timezone.now().replace(microsecond=123456)
EARLIER = NOW - timedelta(days=3)


def new_lead(email: str, user, **fields) -> Lead:
    # Values of the kinds Django converts on the way (an int in a text column, choices
    # members) next to plain ones, defaults and NULLs.
    values = {"last_name": "Doe", "first_name": "Ann", "initial_source": "webcast", "lead_source": "webcast",
              "status": Status.MQL, "status_changed_at": EARLIER, "mql_at": EARLIER, "score": 95,
              "phone": 1234567, "employee_count": 40, "high_priority": True, "segment": Segment.SMB,
              "created_by": user, "email_domain": email.split("@")[1], **fields}
    return Lead(email=email, **values)


def insert(model, objs, check: str) -> None:
    """insert_new, which on PostgreSQL must write with its own statement: a fallback to
    bulk_create there would make these tests compare bulk_create with itself."""
    if not on_postgres():
        insert_new(model, objs, check=check)  # SQLite: bulk_create by design
        return
    with mock.patch.object(QuerySet, "bulk_create", side_effect=AssertionError("fell back to bulk_create")):
        insert_new(model, objs, check=check)


def row(model, pk: int, *leave_out: str) -> dict:
    values = model.objects.filter(pk=pk).values().get()
    return {key: value for key, value in values.items() if key not in ("id", *leave_out)}


# Rows that differ in some columns, so that some columns are sent per row and some once.
VARIANTS: list[dict] = [
    {},
    {"mql_at": None, "first_name": "", "account": None},
    {"title": "VP", "score": -5, "phone": "030 1"},
]


def test_new_leads_are_written_as_bulk_create_writes_them(integration):
    account = Account.objects.create(name="Acme", domain="acme.com")
    with mock.patch("django.utils.timezone.now", return_value=NOW):  # auto_now and auto_now_add
        django_made = [new_lead(f"d{i}@acme.com", integration, **{"account": account, **v})
                       for i, v in enumerate(VARIANTS)]
        Lead.objects.bulk_create(django_made)
        ours = [new_lead(f"o{i}@acme.com", integration, **{"account": account, **v}) for i, v in enumerate(VARIANTS)]
        insert(Lead, ours, check="email")

    for lead, twin in zip(ours, django_made, strict=True):
        assert row(Lead, lead.pk, "email") == row(Lead, twin.pk, "email")
        assert Lead.objects.get(pk=lead.pk).email == lead.email  # each object got its own row's id
        assert lead.created_at == lead.updated_at == NOW and lead.email_domain == "acme.com"
        assert not lead._state.adding
    assert row(Lead, ours[0].pk)["phone"] == "1234567"
    assert row(Lead, ours[1].pk)["account_id"] is None and row(Lead, ours[2].pk)["title"] == "VP"


def test_activities_ledger_rows_and_history_are_written_as_bulk_create_writes_them(integration):
    lead = Lead.objects.create(email="a@acme.com", last_name="Doe", initial_source="webcast", status_changed_at=NOW)
    details = {"page": "/pricing", "utm": ["a", "b"], "n": 2, "nested": {"ok": True, "none": None}}

    def activity() -> Activity:
        return Activity(lead=lead, type="pricing_page_visit", occurred_at=EARLIER, details=dict(details),
                        source_system="web", created_by=integration)

    with mock.patch("django.utils.timezone.now", return_value=NOW):
        Activity.objects.bulk_create([django_made := activity()])
        ours = [activity(), Activity(lead=lead, type="webcast_registered", occurred_at=NOW)]
        insert(Activity, ours, check="lead_id")
    assert row(Activity, ours[0].pk) == row(Activity, django_made.pk)
    assert Activity.objects.get(pk=ours[1].pk).details == {}
    assert Activity.objects.get(pk=ours[0].pk).details == details

    entries = [ScoreEntry(lead=lead, rule_key="pricing", rule_version=2, activity=ours[0], points=10,
                          reason="Pricing page", at=NOW) for _ in range(2)]
    ScoreEntry.objects.bulk_create(entries[:1])
    insert(ScoreEntry, entries[1:], check="lead_id")
    assert row(ScoreEntry, entries[1].pk) == row(ScoreEntry, entries[0].pk)

    moves = [StatusChange(lead=lead, old="raw", new="inquiry", reason="", cause="score", at=NOW) for _ in range(2)]
    StatusChange.objects.bulk_create(moves[:1])
    insert(StatusChange, moves[1:], check="lead_id")
    assert row(StatusChange, moves[1].pk) == row(StatusChange, moves[0].pk)


def test_a_taken_email_raises_the_integrity_error_bulk_ingest_falls_back_on(integration):
    Lead.objects.create(email="a@acme.com", last_name="Doe", initial_source="webcast", status_changed_at=NOW)
    twin = Lead(email="a@acme.com", last_name="Twin", initial_source="webcast", status_changed_at=NOW)

    with pytest.raises(IntegrityError), transaction.atomic():
        insert(Lead, [twin], check="email")
    assert Lead.objects.get().last_name == "Doe"


def test_new_row_builds_what_the_model_builds_and_refuses_a_missing_column():
    values = dict(lead_id=None, contact_id=None, type="pricing_page_visit", occurred_at=timezone.now(),
                  details={"a": 1}, source_system="web", external_id="", created_by_id=None, created_at=None)
    made = new_row(Activity, **values)
    expected = Activity(**values)
    assert [getattr(made, f.attname) for f in Activity._meta.concrete_fields] == \
        [getattr(expected, f.attname) for f in Activity._meta.concrete_fields]
    del values["source_system"]
    with pytest.raises(TypeError, match="source_system"):
        new_row(Activity, **values)


def insert_alone(obj: models.Model) -> None:
    """insert_one, which must write with its own statement: a fallback to save() would
    make these tests compare save() with itself."""
    with mock.patch.object(models.Model, "save", side_effect=AssertionError("fell back to save()")):
        insert_one(obj)


def test_one_row_of_each_kind_ingest_writes_is_written_as_save_writes_it(integration):
    lead = Lead.objects.create(email="a@acme.com", last_name="Doe", initial_source="webcast", status_changed_at=NOW)
    queue = Queue.objects.first() or Queue.objects.create(name="Unassigned")
    details = {"page": "/pricing", "utm": ["a", "b"], "n": 2, "nested": {"ok": True, "none": None}}
    made = {
        Activity: lambda: Activity(lead=lead, type="pricing_page_visit", occurred_at=EARLIER, details=dict(details),
                                   source_system="web", external_id="", created_by=integration),
        ScoreEntry: lambda: ScoreEntry(lead=lead, rule_key="pricing", rule_version=2, activity=None, points=-10,
                                       reason="Pricing page", at=NOW),
        StatusChange: lambda: StatusChange(lead=lead, old="raw", new="mql", reason="", cause="score", by=integration,
                                           at=NOW),
        RoutingDecision: lambda: RoutingDecision(lead=lead, ruleset=None, rule_kind="pool", rule_position=3,
                                                 action="queue", inputs={"country": "DE", "score": 95},
                                                 candidates=[1, 2], owner_id=None, pool_id=None, queue=queue,
                                                 reason="No pool: queue Unassigned.", at=NOW),
    }
    for model, build in made.items():
        with mock.patch("django.utils.timezone.now", return_value=NOW):  # auto_now_add
            saved, ours = build(), build()
            saved.save(force_insert=True)
            insert_alone(ours)
        assert ours.pk is not None and ours.pk != saved.pk, model
        assert (ours._state.adding, ours._state.db) == (False, "default"), model
        assert row(model, ours.pk) == row(model, saved.pk), model
        # What it holds is what was stored, the columns the insert returns included.
        stored = model.objects.get(pk=ours.pk)
        assert [getattr(ours, f.attname) for f in model._meta.concrete_fields] == \
            [getattr(stored, f.attname) for f in model._meta.concrete_fields], model


def test_a_model_with_save_receivers_is_saved_by_save(integration):
    lead = Lead.objects.create(email="a@acme.com", last_name="Doe", initial_source="webcast", status_changed_at=NOW)
    heard = []

    def receiver(sender, instance, created, **kwargs):
        heard.append((instance.pk, created))

    post_save.connect(receiver, sender=StatusChange, dispatch_uid="test-insert-one")
    try:
        insert_one(move := StatusChange(lead=lead, old="raw", new="mql", reason="", cause="score", at=NOW))
    finally:
        post_save.disconnect(sender=StatusChange, dispatch_uid="test-insert-one")
    assert heard == [(move.pk, True)]


def test_a_unique_conflict_raises_the_integrity_error_as_save_does(integration):
    lead = Lead.objects.create(email="a@acme.com", last_name="Doe", initial_source="webcast", status_changed_at=NOW)
    Activity.objects.create(lead=lead, type="webcast_registered", occurred_at=NOW, source_system="crm",
                            external_id="e-1")

    with pytest.raises(IntegrityError), transaction.atomic():
        insert_alone(Activity(lead=lead, type="webcast_registered", occurred_at=NOW, source_system="crm",
                              external_id="e-1"))
    assert Activity.objects.count() == 1


def test_a_few_ledger_entries_are_written_as_bulk_create_writes_them_each_with_its_own_id(integration):
    lead = Lead.objects.create(email="a@acme.com", last_name="Doe", initial_source="webcast", status_changed_at=NOW)

    def entries() -> list[ScoreEntry]:
        return [ScoreEntry(lead=lead, rule_key=f"rule-{n}", rule_version=n, activity=None, points=n * 5 - 7,
                           reason=f"Reason {n}", at=NOW - timedelta(minutes=n)) for n in range(3)]

    django_made, ours = entries(), entries()
    ScoreEntry.objects.bulk_create(django_made)
    with mock.patch.object(QuerySet, "bulk_create", side_effect=AssertionError("fell back to bulk_create")):
        insert_few(ScoreEntry, ours)

    for entry, twin in zip(ours, django_made, strict=True):
        assert entry.pk is not None and (entry._state.adding, entry._state.db) == (False, "default")
        assert row(ScoreEntry, entry.pk) == row(ScoreEntry, twin.pk)  # each object got its own row's id


def test_more_than_a_few_rows_go_to_bulk_create(integration):
    lead = Lead.objects.create(email="a@acme.com", last_name="Doe", initial_source="webcast", status_changed_at=NOW)
    many = [ScoreEntry(lead=lead, rule_key=f"r{n}", rule_version=1, points=1, reason="", at=NOW)
            for n in range(FEW + 1)]
    with mock.patch.object(QuerySet, "bulk_create", autospec=True, side_effect=QuerySet.bulk_create) as bulk_create:
        insert_few(ScoreEntry, many)
    bulk_create.assert_called_once()
    assert ScoreEntry.objects.count() == FEW + 1


@pytest.mark.filterwarnings("ignore:DateTimeField .* received a naive datetime")
@pytest.mark.parametrize("model", [Lead, Activity, ScoreEntry, StatusChange, RoutingDecision])
def test_the_values_sent_are_what_get_db_prep_save_gives(integration, model):
    # prepared_values takes a value of the column's plain type as it is: the same values
    # Django's own preparation gives, on either database, for every kind of value.
    fields = insert_fields(model)
    if model is Lead:
        objs = [new_lead("kinds@acme.example", integration),
                new_lead("naive@acme.example", integration, status_changed_at=NOW.replace(tzinfo=None), score=True,
                         phone=None, employee_count="40", spam_block_domain=1)]
    elif model is Activity:
        objs = [Activity(type="webinar", occurred_at=NOW, details={"a": [1, "b"]}, created_by=integration)]
    elif model is ScoreEntry:
        objs = [ScoreEntry(rule_key="x", rule_version=1, points=-5, reason="why", at=NOW)]
    elif model is StatusChange:
        objs = [StatusChange(old=Status.RAW, new=Status.MQL, reason="", cause="score", at=NOW, by=integration)]
    else:
        objs = [RoutingDecision(rule_kind="trial", rule_position=2, action="pool", inputs={"segment": "smb"},
                                candidates=[3, 4], reason="because", at=NOW)]
    recipe = value_recipe(fields)

    def plain(values):  # a JSON value is wrapped in a new adapter each time
        return [(type(v), getattr(v, "adapted", v)) for v in values]

    with mock.patch("django.utils.timezone.now", return_value=NOW):  # auto_now stamps alike
        for obj in objs:
            expected = [field.get_db_prep_save(field.pre_save(obj, True), connection) for field in fields]
            assert plain(prepared_values(recipe, obj)) == plain(expected)
    if on_postgres():  # plain values are taken as they are there (SQLite sends datetimes as text)
        assert sum(ready is not None for _, ready, _ in recipe) >= len(fields) // 2


@pytest.mark.filterwarnings("ignore:DateTimeField .* received a naive datetime")
def test_an_updated_value_sent_is_what_get_db_prep_save_gives(integration):
    # db_value (leads.queries' updates) skips get_db_prep_save by the same rule.
    leads = [new_lead("kinds@acme.example", integration),
             new_lead("naive@acme.example", integration, status_changed_at=NOW.replace(tzinfo=None), score=True,
                      phone=None, employee_count="40", spam_block_domain=1, status=Status.MQL)]
    for lead in leads:
        for field in insert_fields(Lead):
            value = getattr(lead, field.attname)
            sent, expected = db_value(field, value, connection), field.get_db_prep_save(value, connection)
            assert (type(sent), getattr(sent, "adapted", sent)) == (type(expected), getattr(expected, "adapted",
                                                                                              expected))
    if on_postgres():  # a text sent as it is, without the field's preparation
        assert db_value(Lead._meta.get_field("email"), leads[0].email, connection) is leads[0].email


def ledger_and_decision(lead: Lead) -> list[models.Model]:
    entries = [ScoreEntry(lead=lead, rule_key=f"rule-{n}", rule_version=1, points=n + 1, reason=f"R{n}", at=NOW)
               for n in range(2)]
    return [*entries, RoutingDecision(lead=lead, action="queue", inputs={"segment": "smb"}, candidates=[3, 1],
                                      reason="Queue it.", at=NOW)]


@pytest.mark.parametrize("found", [True, False], ids=["the row updated", "no row to update"])
def test_rows_sent_with_an_update_are_written_as_bulk_create_writes_them_whether_it_updates_or_not(found):
    from leads import queries  # with_rows_first's caller: update_person(rows=)

    lead = Lead.objects.create(email="a@acme.com", last_name="Doe", initial_source="webcast", status_changed_at=NOW)
    twin = Lead.objects.create(email="b@acme.com", last_name="Doe", initial_source="webcast", status_changed_at=NOW)
    ours, django_made = ledger_and_decision(lead), ledger_and_decision(twin)
    for model in (ScoreEntry, RoutingDecision):
        model.objects.bulk_create([obj for obj in django_made if type(obj) is model])
    target = lead.pk if found else -1

    with CaptureQueriesContext(connection) as queries_sent:
        updated = queries.update_person(Lead, target, {"score": 42}, rows=ours)

    assert updated == (1 if found else 0)
    assert Lead.objects.get(pk=lead.pk).score == (42 if found else 0)
    # On PostgreSQL the update and the rows of both models are one statement; elsewhere the
    # rows go first, by insert_few.
    assert len(queries_sent) == (1 if on_postgres() else 3)
    for model in (ScoreEntry, RoutingDecision):
        written = [row(model, pk, "lead_id") for pk in model.objects.filter(lead=lead).order_by("pk").values_list(
            "pk", flat=True)]
        expected = [row(model, pk, "lead_id") for pk in model.objects.filter(lead=twin).order_by("pk").values_list(
            "pk", flat=True)]
        assert written == expected and len(written) == (2 if model is ScoreEntry else 1)


def test_rows_sent_with_a_move_are_written_once_whether_it_moves_or_not():
    from leads import queries

    lead = Lead.objects.create(email="a@acme.com", last_name="Doe", initial_source="webcast", status_changed_at=NOW)
    history = StatusChange(lead=lead, old=Status.RAW, new=Status.MQL, cause="score", at=NOW)
    assert queries.move_person(Lead, lead.pk, Status.RAW, {"status": Status.MQL}, history,
                               rows=ledger_and_decision(lead))
    history = StatusChange(lead=lead, old=Status.RAW, new=Status.MQL, cause="score", at=NOW)
    assert not queries.move_person(Lead, lead.pk, Status.RAW, {"status": Status.MQL}, history,  # not RAW now
                                   rows=ledger_and_decision(lead))
    assert (ScoreEntry.objects.filter(lead=lead).count(), RoutingDecision.objects.filter(lead=lead).count()) == (4, 2)
    assert StatusChange.objects.filter(lead=lead).count() == 1
