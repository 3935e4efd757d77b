"""The trigram index of the global search over opportunity names (sdrcrm/search.py), on
PostgreSQL; built CONCURRENTLY (hence not atomic). Nothing to do on SQLite."""

from django.db import migrations


def create(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    schema_editor.execute("CREATE EXTENSION IF NOT EXISTS pg_trgm")
    schema_editor.execute("CREATE INDEX CONCURRENTLY IF NOT EXISTS opportunity_search_trgm ON "
                          "opportunities_opportunity USING gin ((UPPER(name)) gin_trgm_ops)")


def drop(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute("DROP INDEX CONCURRENTLY IF EXISTS opportunity_search_trgm")


class Migration(migrations.Migration):
    atomic = False
    dependencies = [("opportunities", "0001_initial"), ("leads", "0014_search_trigrams")]
    operations = [migrations.RunPython(create, drop, elidable=False)]
