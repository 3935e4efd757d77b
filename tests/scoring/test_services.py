from __future__ import annotations

from datetime import timedelta

import pytest
from django.db.models import Sum
from django.utils import timezone

from leads import lifecycle, people, services
from leads.models import Lead, RecycleReason, Status, StatusChange, UnqualifiedReason
from scoring import services as scoring
from scoring.models import ScoreEntry
from tests.factories import LeadFactory

pytestmark = pytest.mark.django_db


def ledger_sum(lead: Lead) -> int:
    return ScoreEntry.objects.filter(lead=lead).aggregate(total=Sum("points"))["total"] or 0


def lead_with(title: str = "Analyst", email: str = "x@acme.com", status: str = Status.RAW) -> Lead:
    return LeadFactory(title=title, email=email, status=status)


def test_the_score_is_always_the_ledger_sum():
    lead = lead_with(title="Director")
    services.record_activity(lead, "pricing_page_visit")
    services.record_activity(lead, "webcast_registered")
    lead.refresh_from_db()
    assert lead.score == 50 + 5 + 10 + 15
    assert ledger_sum(lead) == lead.score


def test_rescoring_again_writes_nothing_new():
    lead = lead_with()
    services.record_activity(lead, "contact_request")
    rows = ScoreEntry.objects.count()
    scoring.rescore(lead)
    scoring.rescore(lead)
    assert ScoreEntry.objects.count() == rows


def test_reaching_90_makes_a_raw_lead_mql_with_both_dates():
    lead = lead_with(title="Analyst")  # +5 company email
    services.record_activity(lead, "webcast_attended_high_intent")  # +90
    lead.refresh_from_db()
    assert lead.score == 95
    assert lead.status == Status.MQL
    assert lead.mql_at is not None and lead.last_mql_at == lead.mql_at
    assert StatusChange.objects.get(lead=lead, new=Status.MQL).cause == "score"


def test_89_points_is_not_yet_mql_but_a_form_fill_makes_an_inquiry():
    lead = lead_with(title="Software Engineer", email="x@gmail.com")  # -10 -5
    services.record_activity(lead, "contact_request")  # +100 → 85
    services.record_activity(lead, "installation_page_visit")  # +2 → 87
    lead.refresh_from_db()
    assert lead.score == 87
    assert lead.status == Status.INQUIRY


@pytest.mark.parametrize("status", [Status.INQUIRY, Status.RECYCLE, Status.UNRESPONSIVE])
def test_these_statuses_become_mql_at_90(status):
    lead = lead_with(status=status)
    services.record_activity(lead, "trial_request")
    assert Lead.objects.get(pk=lead.pk).status == Status.MQL


@pytest.mark.parametrize("status", [Status.ACCEPTED, Status.QUALIFYING, Status.UNQUALIFIED, Status.BAD_DATA])
def test_later_statuses_keep_theirs_at_90(status):
    lead = lead_with(status=status)
    services.record_activity(lead, "trial_request")
    lead.refresh_from_db()
    assert lead.score >= 90 and lead.status == status


def test_a_page_visit_does_not_make_an_inquiry():
    lead = lead_with()
    services.record_activity(lead, "pricing_page_visit")
    assert Lead.objects.get(pk=lead.pk).status == Status.RAW


def test_unsubscribe_opts_out_and_unqualifies():
    lead = lead_with(status=Status.MQL)
    services.record_activity(lead, "email_unsubscribe")
    lead.refresh_from_db()
    assert lead.opted_out is True
    assert (lead.status, lead.status_reason) == (Status.UNQUALIFIED, UnqualifiedReason.UNSUBSCRIBE)


def test_recycle_resets_behaviour_points_and_new_behaviour_can_mql_again():
    lead = lead_with(title="Director")  # profile 55
    services.record_activity(lead, "contact_request")
    lead.refresh_from_db()
    assert (lead.score, lead.status) == (155, Status.MQL)

    lifecycle.transition(lead, Status.RECYCLE, reason=RecycleReason.NOT_READY)
    lead.refresh_from_db()
    assert lead.score == 55  # profile stays; behaviour is back to zero
    assert ledger_sum(lead) == 55
    assert lead.activities.count() == 1  # the activity is still there to see

    services.record_activity(lead, "enterprise_trial_page_visit")  # +50 → 105
    lead.refresh_from_db()
    assert (lead.score, lead.status) == (105, Status.MQL)


def test_a_handraise_opens_a_60_day_active_window():
    lead = lead_with()
    now = timezone.now()
    services.record_activity(lead, "web_chat", occurred_at=now - timedelta(days=10), now=now)
    lead.refresh_from_db()
    assert lead.last_handraise_at == now - timedelta(days=10)
    assert lead.active_until == now + timedelta(days=50)
    assert lead.is_passive is False


def test_a_trial_is_active_until_30_days_after_its_end():
    lead = lead_with()
    now = timezone.now()
    services.record_activity(lead, "trial_request", occurred_at=now, details={"trial_end": "2030-01-31"}, now=now)
    lead.refresh_from_db()
    assert lead.active_until.date().isoformat() == "2030-03-02"


def test_an_old_handraise_leaves_the_lead_passive():
    lead = lead_with()
    now = timezone.now()
    services.record_activity(lead, "contact_request", occurred_at=now - timedelta(days=61), now=now)
    assert Lead.objects.get(pk=lead.pk).is_passive is True


def test_a_title_change_corrects_the_profile_points_in_the_ledger():
    lead = services.ingest_lead({"email": "t@acme.com", "last_name": "T", "initial_source": "webcast",
                                 "title": "Developer"}, by=None).lead
    assert lead.score == -10 + 5
    lead = services.ingest_lead({"email": "t@acme.com", "title": "Head of IT"}, by=None).lead
    assert lead.score == 50 + 5
    assert ledger_sum(lead) == 55
    assert ScoreEntry.objects.filter(lead=lead, rule_key="title-junior").aggregate(s=Sum("points"))["s"] == 0


def test_explain_gives_the_total_and_each_rule_in_words():
    lead = lead_with(title="Director")
    services.record_activity(lead, "contact_request")
    lead.refresh_from_db()
    explained = scoring.explain(lead)
    assert explained["score"] == 155
    points = {item["rule"]: item["points"] for item in explained["breakdown"]}
    assert points == {"activity-contact-request": 100, "title-senior": 50, "email-company": 5}
    assert "Contact Us form: +100" in explained["summary"]


def test_a_title_edit_that_reaches_90_makes_the_lead_mql(sdr):
    lead = LeadFactory(owner=sdr, title="Developer", email="f@gmail.com")  # -10 -5
    services.record_activity(lead, "webcast_attended_high_intent")  # +90 → 75
    lead.refresh_from_db()
    assert (lead.score, lead.status) == (75, Status.INQUIRY)
    people.update_person(lead, {"title": "Director"}, by=sdr)  # 50 - 5 + 90 = 135
    lead.refresh_from_db()
    assert (lead.score, lead.status) == (135, Status.MQL)


@pytest.mark.django_db
def test_activities_and_ledger_sums_read_in_one_statement_are_what_the_two_queries_read(sdr):
    from scoring import queries

    lead = services.ingest_lead({"email": "both@acme.com", "last_name": "Both", "initial_source": "webcast",
                                 "title": "VP Sales"}, by=sdr).lead
    services.record_activity(lead, "trial_request", details={"trial_end": "2026-05-01"}, by=sdr)
    services.record_activity(lead, "pricing_page_visit", by=sdr)
    services.record_activity(lead, "pricing_page_visit", by=sdr)  # a repeat: its own ledger key, 0 points

    activities, sums = queries.activities_and_ledger_sums("lead", lead.pk)

    def key(row: list) -> tuple:
        return tuple(str(value) for value in row)

    assert sorted(activities, key=key) == sorted(queries.activities_of("lead", lead.pk), key=key)
    assert sorted(sums, key=key) == sorted(queries.ledger_sums("lead", lead.pk), key=key)
    assert len(activities) == 3 and {row[3].get("trial_end") for row in activities} == {"2026-05-01", None}
    assert sum(row[2] for row in sums) == Lead.objects.get(pk=lead.pk).score


@pytest.mark.parametrize("person_kind", ["lead", "contact"])
def test_an_activity_inserted_with_the_read_is_stored_and_read_as_the_two_statements_would(sdr, person_kind):
    from leads.models import Activity
    from scoring import queries
    from tests.factories import ContactFactory

    person = (services.ingest_lead({"email": "fold@acme.com", "last_name": "Fold", "initial_source": "webcast",
                                    "title": "VP Sales"}, by=sdr).lead
              if person_kind == "lead" else ContactFactory(owner=sdr))
    services.record_activity(person, "trial_request", details={"trial_end": "2026-05-01"}, by=sdr)
    services.record_activity(person, "pricing_page_visit", by=sdr)
    new = Activity(**{person_kind: person}, type="webcast_attended_high_intent", occurred_at=timezone.now(),
                   details={"title": "Q3 ☃"}, external_id="w-1", source_system="on24", created_by=sdr)

    activities, sums = queries.insert_activity_and_read(new)

    def key(row: list) -> tuple:
        return tuple(str(value) for value in row)

    stored = Activity.objects.get(pk=new.pk)  # the id set is the stored row's
    assert (stored.type, stored.details, stored.external_id, stored.created_by_id) == (
        "webcast_attended_high_intent", {"title": "Q3 ☃"}, "w-1", sdr.pk)
    assert not new._state.adding
    assert sorted(activities, key=key) == sorted(queries.activities_of(person_kind, person.pk), key=key)
    assert activities[-1][0] == new.pk  # the new one last, where the table lists it
    assert sorted(sums, key=key) == sorted(queries.ledger_sums(person_kind, person.pk), key=key)
    assert len(activities) == 3 and len(sums) >= 2
