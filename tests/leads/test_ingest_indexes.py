"""Every index of a table the ingest writes costs a write per row: none of them may be a
plain prefix of another index of its table, which answers the same lookups (issue 18:
Django's single-column foreign-key indexes beside the composite ones that lead with the
same column)."""

from __future__ import annotations

import pytest
from django.db import connection

from tests.conftest import on_postgres, require

pytestmark = pytest.mark.django_db

# (A pool's turn updates its members' credit and count only, columns no index holds.)
INGEST_TABLES = ["leads_lead", "leads_leadsearch", "leads_activity", "scoring_scoreentry", "leads_statuschange",
                 "routing_routingdecision"]
# Index a (not unique, no predicate, no expression) whose key columns, with their operator
# classes, are the first key columns of index b of the same table, both B-trees.
REDUNDANT = """
SELECT a.indexrelid::regclass::text, b.indexrelid::regclass::text
FROM pg_index a JOIN pg_index b ON a.indrelid = b.indrelid AND a.indexrelid <> b.indexrelid
JOIN pg_class ia ON ia.oid = a.indexrelid JOIN pg_class ib ON ib.oid = b.indexrelid
JOIN pg_am ama ON ama.oid = ia.relam JOIN pg_am amb ON amb.oid = ib.relam
WHERE a.indrelid::regclass::text = ANY(%s) AND ama.amname = 'btree' AND amb.amname = 'btree'
  AND NOT a.indisunique AND a.indpred IS NULL AND b.indpred IS NULL AND a.indexprs IS NULL AND b.indexprs IS NULL
  AND a.indnkeyatts <= b.indnkeyatts
  AND (a.indkey::int2[])[0:a.indnkeyatts - 1] = (b.indkey::int2[])[0:a.indnkeyatts - 1]
  AND (a.indclass::oid[])[0:a.indnkeyatts - 1] = (b.indclass::oid[])[0:a.indnkeyatts - 1]
ORDER BY 1, 2
"""


def test_no_index_of_a_table_the_ingest_writes_repeats_the_start_of_another():
    require(on_postgres(), "CI must check the ingest's indexes on PostgreSQL",
            "the catalog query reads PostgreSQL's pg_index (DATABASE_URL=postgres://…)")
    with connection.cursor() as cursor:
        cursor.execute("SELECT count(*) FROM pg_index WHERE indrelid::regclass::text = ANY(%s)", [INGEST_TABLES])
        assert cursor.fetchone()[0] > 30  # the tables are there, with their indexes
        cursor.execute(REDUNDANT, [INGEST_TABLES])
        assert cursor.fetchall() == []
