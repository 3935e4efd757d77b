"""Two activities of one person sent at the same moment both count in its score: the
second re-scores after the first commits, from the ledger the first wrote
(leads.services.lock_and_reread), instead of both reading the ledger as it was before and
the last to commit leaving a score without the other's points."""

from __future__ import annotations

import threading
import time

import pytest
from django.db import connection
from django.db.models import Sum

from leads import people, services
from leads.models import Lead
from scoring import services as scoring
from scoring.models import ScoreEntry
from tests.conftest import on_postgres, require

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.usefixtures("seeded")]


def by_the_service(lead_id: int, kind: str) -> None:
    services.record_activity(Lead.objects.get(pk=lead_id), kind)


def as_the_api_by_email(lead_id: int, kind: str) -> None:
    email = Lead.objects.values_list("email", flat=True).get(pk=lead_id)  # the lookup itself locks
    services.record_activity_found(lambda: people.find_person_by_email(email, None, lock=True), kind)


@pytest.mark.parametrize("send", [by_the_service, as_the_api_by_email])
def test_two_activities_of_one_lead_at_once_both_count_in_its_score(monkeypatch, send):
    require(on_postgres(), "CI must run the concurrent-activity test on PostgreSQL",
            "two transactions at once need PostgreSQL (DATABASE_URL=postgres://…)")
    lead = services.ingest_lead({"email": "dev@firm.de", "last_name": "Doe", "title": "Developer",
                                 "country": "DE", "initial_source": "webcast"}, by=None).lead
    first_scored, second_scored, release_first = threading.Event(), threading.Event(), threading.Event()
    rescore = scoring.rescore_changes

    def first_waits_after_scoring(person, *args, **kwargs):
        result = rescore(person, *args, **kwargs)
        if threading.current_thread().name == "first":
            first_scored.set()  # scored from the ledger it read, not committed yet
            release_first.wait(10)
        else:
            second_scored.set()
        return result

    monkeypatch.setattr(scoring, "rescore_changes", first_waits_after_scoring)
    errors: list[BaseException] = []

    def record(kind: str) -> None:
        try:
            send(lead.pk, kind)
        except BaseException as error:  # noqa: BLE001 - reported by the test
            errors.append(error)
        finally:
            connection.close()

    first = threading.Thread(target=record, args=("webcast_attended_low_intent",), name="first")
    second = threading.Thread(target=record, args=("pricing_page_visit",), name="second")
    first.start()
    assert first_scored.wait(10)
    second.start()
    # The second either scores at once, from the ledger without the first's row (the race),
    # or waits for the first's lock: let the first commit only then.
    for _ in range(200):
        if second_scored.is_set() or waiting_for_a_lock():
            break
        time.sleep(0.05)
    release_first.set()
    first.join(30)
    second.join(30)

    assert errors == []
    stored = Lead.objects.get(pk=lead.pk)
    ledger = ScoreEntry.objects.filter(lead=lead).aggregate(total=Sum("points"))["total"]
    assert stored.activities.count() == 2
    assert stored.score == ledger == scoring.rescore(stored)  # the score is the ledger's sum


def waiting_for_a_lock() -> bool:
    with connection.cursor() as cursor:
        cursor.execute("SELECT count(*) FROM pg_stat_activity WHERE wait_event_type = 'Lock'"
                       " AND datname = current_database()")
        return cursor.fetchone()[0] > 0
