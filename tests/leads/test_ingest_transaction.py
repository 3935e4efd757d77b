"""An ingested lead and an activity are each one transaction, on a connection that has run
them before too: then their statements are prepared already and go out as EXECUTE
(sdrcrm/postgresql), and each one's BEGIN must go with the first. A failure after the
first write leaves nothing written."""

from __future__ import annotations

import pytest

from leads.models import Activity, Lead
from scoring.models import ScoreEntry
from tests.conftest import on_postgres, require

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.usefixtures("seeded")]


class Broken(Exception):
    pass


def lead(n: int) -> dict[str, str]:
    return {"email": f"dev{n}@firm{n}.de", "last_name": "Doe", "title": "Developer", "country": "DE",
            "initial_source": "webcast"}


def test_a_failure_after_the_writes_leaves_nothing_written(api, integration, monkeypatch):
    require(on_postgres(), "CI must run the ingest's transaction test on PostgreSQL",
            "the prepared statements are PostgreSQL's (DATABASE_URL=postgres://…)")
    client = api.as_user(integration)
    for n in (1, 2):  # each statement prepared, then run again
        assert client.post("/api/v1/leads/", lead(n), format="json").status_code == 201
        answer = client.post("/api/v1/activities/", {"email": lead(n)["email"], "type": "contact_request"},
                             format="json")
        assert answer.status_code == 201

    from leads import services

    advance = services.score_and_advance

    def broken(*args, **kwargs):  # after the person's writes: the lead or the activity, the ledger, the move
        advance(*args, **kwargs)
        raise Broken

    monkeypatch.setattr(services, "score_and_advance", broken)
    with pytest.raises(Broken):
        client.post("/api/v1/leads/", lead(3), format="json")
    assert not Lead.all_objects.filter(email=lead(3)["email"]).exists()

    stored = Lead.objects.get(email=lead(2)["email"])
    with pytest.raises(Broken):
        client.post("/api/v1/activities/", {"email": lead(2)["email"], "type": "pricing_page_visit"}, format="json")
    assert Activity.objects.filter(lead=stored).count() == 1
    assert Lead.objects.get(pk=stored.pk).score == stored.score
    assert stored.score == sum(ScoreEntry.objects.filter(lead=stored).values_list("points", flat=True))
