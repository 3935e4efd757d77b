"""Ingesting one lead and one activity costs a bounded number of queries, whatever the
number of leads already stored."""

from __future__ import annotations

import pytest

from leads.models import Lead
from sdrcrm.models import Role
from tests.conftest import on_postgres, pool_of
from tests.factories import LeadFactory, UserFactory

pytestmark = pytest.mark.django_db
# Rules, rule set, territories, pools, queues and the block list come from the configuration
# cache, whose token the lead's lookup by email reads along (sdrcrm.config.pin_token: no query
# of its own), as it reads the account the new lead is matched to; the API token's user is
# cached too. A new lead has no activities or ledger to load, and is saved with its score;
# its insert needs no savepoint (ON CONFLICT, sdrcrm.bulk_insert.insert_unless_taken) and
# on PostgreSQL writes its ledger rows too.
LEAD_QUERIES = 4 if on_postgres() else 5
# The person read by email with its row locked, in the transaction (two activities of one
# person re-score one after the other: leads.services.record_activity_found); the
# activities and the ledger's sums in one statement, on PostgreSQL the activity's insert
# too (scoring.queries.insert_activity_and_read); colleagues at the domain; the pool's turn,
# which locks the lead first (one function call on PostgreSQL; on SQLite the members' read
# and their update); then score, MQL and owner in one update of the lead, which on
# PostgreSQL writes the ledger rows, the status history row and the routing decision too
# (leads.queries.move_person, sdrcrm.bulk_insert.with_rows_first).
ACTIVITY_QUERIES = 7 if on_postgres() else 12


def ingest_one(client, n: int) -> None:
    response = client.post("/api/v1/leads/", {"email": f"q{n}@firm{n}.de", "last_name": "Doe", "country": "DE",
                                              "initial_source": "trial_saas"}, format="json")
    assert response.status_code == 201
    response = client.post("/api/v1/activities/", {"email": f"q{n}@firm{n}.de", "type": "trial_request"},
                           format="json")
    assert response.status_code == 201


@pytest.mark.parametrize("stored", [5, 60])
def test_ingest_queries_do_not_grow_with_the_stored_leads(api, integration, django_assert_max_num_queries, stored):
    LeadFactory.create_batch(stored)
    member = UserFactory(role=Role.BDR)
    pool_of("EMEA BDR", member)  # where DE trials go
    client = api.as_user(integration)
    ingest_one(client, 0)  # warm caches (token, content types) outside the count
    with django_assert_max_num_queries(LEAD_QUERIES):
        lead = client.post("/api/v1/leads/", {"email": "x@firm.de", "last_name": "Doe", "country": "DE",
                                              "initial_source": "trial_saas"}, format="json")
    with django_assert_max_num_queries(ACTIVITY_QUERIES):
        activity = client.post("/api/v1/activities/", {"email": "x@firm.de", "type": "trial_request"}, format="json")
    assert (lead.status_code, activity.status_code) == (201, 201)
    lead = Lead.objects.get(email="x@firm.de")
    assert (lead.status, lead.owner_id) == ("mql", member.pk)  # the full path ran: scored, MQL, routed
