"""Trigram indexes for the global search (sdrcrm/search.py) on PostgreSQL: one per table,
over the same expression the search matches `LIKE '%WORD%'` against. Built CONCURRENTLY,
so a large lead table keeps taking writes meanwhile (hence not atomic). SQLite has no
trigram index: nothing to do there."""

from django.db import migrations

PERSON = "UPPER(first_name || ' ' || last_name || ' ' || email || ' ' || company || ' ' || phone)"
INDEXES = {
    "lead_search_trgm": ("leads_lead", PERSON),
    "contact_search_trgm": ("leads_contact", PERSON),
    "account_search_trgm": ("leads_account", "UPPER(name || ' ' || domain)"),
}


def create(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    schema_editor.execute("CREATE EXTENSION IF NOT EXISTS pg_trgm")
    for name, (table, expression) in INDEXES.items():
        schema_editor.execute(
            f"CREATE INDEX CONCURRENTLY IF NOT EXISTS {name} ON {table} USING gin (({expression}) gin_trgm_ops)")


def drop(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    for name in INDEXES:
        schema_editor.execute(f"DROP INDEX CONCURRENTLY IF EXISTS {name}")


class Migration(migrations.Migration):
    atomic = False
    dependencies = [("leads", "0013_touch_types")]
    operations = [migrations.RunPython(create, drop, elidable=False)]
