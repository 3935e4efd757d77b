"""Indexes for the SAO dashboard's per-SDR figures: deals qualified or won in a period
(accepted ones had theirs), so the database reads the period's deals by index instead of
every deal of the SDRs (49 → 18 ms for a month at 100,000 opportunities). Built
CONCURRENTLY on PostgreSQL, so the table keeps taking writes (hence not atomic)."""

from django.db import migrations, models

INDEXES = {
    "opportunity_sdr_sqo": "(sdr_id, sales_qualified_date)",
    "opportunity_sdr_won": "(sdr_id, closed_at) WHERE stage = 'closed_won'",
}


def how(schema_editor) -> str:
    return "CONCURRENTLY " if schema_editor.connection.vendor == "postgresql" else ""


def create(apps, schema_editor):
    for name, columns in INDEXES.items():
        schema_editor.execute(f"CREATE INDEX {how(schema_editor)}IF NOT EXISTS {name} "
                              f"ON opportunities_opportunity {columns}")


def drop(apps, schema_editor):
    for name in INDEXES:
        schema_editor.execute(f"DROP INDEX {how(schema_editor)}IF EXISTS {name}")


class Migration(migrations.Migration):
    atomic = False
    dependencies = [("opportunities", "0002_search_trigrams")]
    operations = [
        migrations.SeparateDatabaseAndState(
            database_operations=[migrations.RunPython(create, drop, elidable=False)],
            state_operations=[
                migrations.AddIndex("opportunity", models.Index(
                    fields=["sdr", "sales_qualified_date"], name="opportunity_sdr_sqo")),
                migrations.AddIndex("opportunity", models.Index(
                    fields=["sdr", "closed_at"], name="opportunity_sdr_won", condition=models.Q(stage="closed_won"))),
            ],
        ),
    ]
