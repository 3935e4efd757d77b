"""leads.services.lead_by_email reads a lead with hand-written SQL: the lead it gives
must be the one the ORM gives, field for field and type for type, on either database."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.db import DataError, connection, transaction
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from leads import queries
from leads.models import Lead, Status
from scoring.models import ScoreEntry
from sdrcrm.bulk_insert import insert_few, insert_unless_taken
from tests.conftest import on_postgres, require
from tests.factories import ContactFactory, LeadFactory, UserFactory

pytestmark = pytest.mark.django_db


def fields_of(lead: Lead) -> dict:
    return {f.attname: (getattr(lead, f.attname), type(getattr(lead, f.attname)))
            for f in Lead._meta.concrete_fields}


def test_the_lead_read_is_the_one_the_orm_reads_field_for_field():
    now = timezone.now()
    lead = LeadFactory(owner=UserFactory(), title="VP Sales", employee_count=250, status=Status.MQL, score=95,
                       mql_at=now - timedelta(days=2), last_mql_at=now, public_sector=True, opted_out=True,
                       sla_due_at=now + timedelta(days=1), country="DE", segment="mid_market", region="emea")

    read = queries.lead_by_email(lead.email)

    assert read is not None and read.pk == lead.pk
    assert fields_of(read) == fields_of(Lead.objects.get(pk=lead.pk))
    assert read._state.adding is False and read._state.db == "default"


def test_an_unknown_email_reads_nothing():
    LeadFactory(email="known@acme.com")
    assert queries.lead_by_email("unknown@acme.com") is None


def test_a_converted_lead_is_left_out_when_asked():
    lead = LeadFactory(email="gone@acme.com", converted_to=ContactFactory())

    assert queries.lead_by_email("gone@acme.com") == lead
    assert queries.lead_by_email("gone@acme.com", unconverted=True) is None


def test_the_locking_read_gives_the_same_lead():
    lead = LeadFactory(email="locked@acme.com")
    with transaction.atomic():
        assert queries.lead_by_email("locked@acme.com", lock=True) == lead


def test_the_lead_insert_writes_what_save_writes_field_for_field():
    now = timezone.now()
    values = dict(owner=UserFactory(), title="VP Sales", employee_count=250, status=Status.MQL, score=95,
                  mql_at=now - timedelta(days=2), public_sector=True, opted_out=True, country="DE",
                  sla_due_at=now + timedelta(days=1), segment="mid_market", region="emea", last_name="Doe")
    saved = LeadFactory.build(email="saved@acme.com", **values)
    inserted = Lead(**{f.attname: getattr(saved, f.attname) for f in Lead._meta.concrete_fields if f.attname != "id"})
    inserted.email = "new@acme.com"
    saved.save()

    assert insert_unless_taken(inserted, "email") is True

    assert inserted.pk is not None and inserted._state.adding is False and inserted._state.db == "default"
    stored = Lead.objects.get(pk=inserted.pk)
    # What it holds is what was stored (the auto_now stamps included; its choices are enums, as after save()).
    assert {f.attname: getattr(stored, f.attname) for f in Lead._meta.concrete_fields} == {
        f.attname: getattr(inserted, f.attname) for f in Lead._meta.concrete_fields}
    differ = {"id", "email", "email_domain", "created_at", "updated_at"}
    assert ({k: v for k, v in fields_of(stored).items() if k not in differ}
            == {k: v for k, v in fields_of(Lead.objects.get(pk=saved.pk)).items() if k not in differ})


def test_the_lead_insert_leaves_a_taken_email_alone_and_the_transaction_usable():
    lead = LeadFactory(email="taken@acme.com", last_name="First")
    with transaction.atomic():
        assert insert_unless_taken(LeadFactory.build(email="taken@acme.com", last_name="Second"), "email") is False
        assert Lead.objects.get(email="taken@acme.com").last_name == "First"  # no aborted transaction
    assert Lead.objects.filter(email="taken@acme.com").count() == 1 and Lead.objects.get().pk == lead.pk


def ledger_of(lead: Lead) -> list[tuple]:
    return sorted(ScoreEntry.objects.filter(lead=lead).values_list(
        "contact_id", "rule_key", "rule_version", "activity_id", "points", "reason", "at"))


def test_a_new_leads_ledger_rows_are_inserted_with_it_as_insert_few_writes_them():
    now = timezone.now()
    # Cut by a cast to the column's length, it would be stored; as written it is refused.
    reason = "Ü" * 255

    def entries(lead: Lead) -> list[ScoreEntry]:
        return [ScoreEntry(lead=lead, rule_key="email-company", rule_version=1, points=5, reason="Company", at=now),
                ScoreEntry(lead=lead, rule_key="title-vp", rule_version=2, points=-10, reason=reason, at=now)]

    careful = LeadFactory(email="careful@acme.com")
    insert_few(ScoreEntry, entries(careful))
    lead = LeadFactory.build(email="with-ledger@acme.com", last_name="Doe")

    with CaptureQueriesContext(connection) as queries_sent:
        assert insert_unless_taken(lead, "email", rows=entries(lead)) is True

    assert lead.pk is not None and Lead.objects.get(pk=lead.pk).email == "with-ledger@acme.com"
    assert ledger_of(lead) == ledger_of(careful)
    assert len(queries_sent) == (1 if connection.vendor == "postgresql" else 2)


def test_a_taken_email_writes_neither_the_lead_nor_its_ledger_rows():
    taken = LeadFactory(email="taken@acme.com", last_name="First")
    lead = LeadFactory.build(email="taken@acme.com", last_name="Second")
    with transaction.atomic():
        assert insert_unless_taken(lead, "email", rows=[
            ScoreEntry(lead=lead, rule_key="email-company", rule_version=1, points=5, reason="x",
                       at=timezone.now())]) is False
    assert lead.pk is None and ScoreEntry.objects.count() == 0 and Lead.objects.get().pk == taken.pk


def test_a_ledger_row_too_long_for_its_column_is_refused_with_its_lead():
    lead = LeadFactory.build(email="long@acme.com", last_name="Doe")
    row = ScoreEntry(lead=lead, rule_key="x" * 61, rule_version=1, points=5, reason="x", at=timezone.now())
    require(on_postgres(), "CI must test the ledger's statement on PostgreSQL", "SQLite does not enforce lengths")
    with pytest.raises(DataError), transaction.atomic():
        insert_unless_taken(lead, "email", rows=[row])
    assert not Lead.objects.filter(email="long@acme.com").exists()


def account_fields(account) -> dict | None:
    if account is None:
        return None
    return {**{f.attname: getattr(account, f.attname) for f in account._meta.concrete_fields},
            "open_opportunity": account.open_opportunity}


@pytest.mark.parametrize(("email", "company", "matched"), [
    ("ann@acme.com", "Other Co", "acme.com"),  # the domain
    ("ann@elsewhere.com", "Acme Widgets", "acme-widgets.io"),  # the name (not the deleted account's)
    ("ann@acme.com", "Acme Widgets", "acme.com"),  # both: the domain's account
    ("ann@gmail.com", "Acme Widgets", "acme-widgets.io"),  # free mail: the name only
    ("ann@gmail.com", "", None),  # nothing to look for
    ("ann@nowhere.com", "Nobody", None),  # nothing found
])
@pytest.mark.parametrize("lead_exists", [False, True])
def test_the_account_read_with_the_lead_is_the_one_account_matching_reads(email, company, matched, lead_exists):
    from leads import domains
    from opportunities.models import Stage
    from routing import queries as routing_queries
    from tests.factories import AccountFactory, OpportunityFactory

    AccountFactory(name="Acme Inc", domain="acme.com")
    by_name = AccountFactory(name="Acme Widgets", domain="acme-widgets.io")
    OpportunityFactory(account=by_name, stage=Stage.DISCOVERY)  # open: read along as open_opportunity
    AccountFactory(name="Acme Widgets", domain="gone.com", deleted_at=timezone.now())
    lead = LeadFactory(email=email) if lead_exists else None
    keys = domains.account_keys(email, company)

    found, account = queries.lead_and_account_by_email(email, keys, lock=True)

    assert found == lead
    assert (account.domain if account else None) == matched
    assert account_fields(account) == account_fields(routing_queries.account_matching(*keys))
    if account is not None:
        assert account.open_opportunity is (account.pk == by_name.pk)
