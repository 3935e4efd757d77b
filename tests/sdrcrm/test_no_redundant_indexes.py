"""No index of ours is a leading part of another index on the same table (PostgreSQL
finds the rows by the longer one as well): each such index only cost every insert,
update and delete of its table a write, and its space. Django's own tables (auth, the
user's groups and permissions) and the API token's user (django-rest-knox's field) are
left as those libraries make them."""

from __future__ import annotations

import pytest
from django.apps import apps
from django.db import connection

from tests.conftest import on_postgres, require

pytestmark = pytest.mark.django_db
OURS = {"leads", "routing", "scoring", "opportunities", "sdrcrm"}

PREFIXES = """
WITH idx AS (
    SELECT i.indrelid::regclass::text AS tbl, i.indexrelid::regclass::text AS name,
           string_to_array(i.indkey::text, ' ') AS cols, i.indpred IS NOT NULL AS partial, i.indisunique AS uniq,
           i.indexprs IS NOT NULL AS expressions, i.indclass::text AS classes
    FROM pg_index i JOIN pg_class c ON c.oid = i.indrelid JOIN pg_namespace n ON n.oid = c.relnamespace
    WHERE n.nspname = current_schema())
SELECT a.tbl, a.name, b.name
FROM idx a JOIN idx b ON a.tbl = b.tbl AND a.name <> b.name
WHERE NOT a.uniq AND NOT a.partial AND NOT b.partial AND NOT a.expressions AND NOT b.expressions
  AND array_length(a.cols, 1) < array_length(b.cols, 1) AND a.cols = b.cols[1:array_length(a.cols, 1)]
  AND split_part(a.classes, ' ', 1) = split_part(b.classes, ' ', 1)
  AND a.tbl NOT LIKE 'auth\\_%' AND a.tbl NOT LIKE 'django\\_%'
  AND a.tbl NOT IN ('sdrcrm_user_groups', 'sdrcrm_user_user_permissions')
  AND a.name NOT LIKE 'sdrcrm\\_apitoken\\_user\\_id\\_%'
ORDER BY 1, 2
"""


def test_no_index_is_the_leading_part_of_another():
    require(on_postgres(), "CI must check the indexes on PostgreSQL: set DATABASE_URL",
            "needs DATABASE_URL=postgres://… (CI sets it)")
    with connection.cursor() as cursor:
        cursor.execute(PREFIXES)
        redundant = cursor.fetchall()
    assert redundant == []


def test_every_index_and_constraint_the_models_declare_is_in_the_database():
    """The migrations built what the models say: no Meta index or constraint went missing
    (AlterField(db_index=False) drops a column's partial unique index with its plain one,
    which leads 0037 steps around)."""
    missing = []
    with connection.cursor() as cursor:
        for model in apps.get_models():
            if model._meta.app_label not in OURS or not model._meta.managed:
                continue
            present = connection.introspection.get_constraints(cursor, model._meta.db_table)
            declared = [*model._meta.indexes, *model._meta.constraints]
            missing += [f"{model._meta.db_table}.{item.name}" for item in declared if item.name not in present]
    assert missing == []
