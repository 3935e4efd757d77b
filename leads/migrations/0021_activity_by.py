"""An index for the SAO dashboard's dials and emails per SDR (who logged them, when). Built
CONCURRENTLY on PostgreSQL, so a large activity table keeps taking writes meanwhile (hence
not atomic); a plain index elsewhere."""

from django.db import migrations, models

COLUMNS = "(created_by_id, occurred_at)"


def create(apps, schema_editor):
    concurrently = "CONCURRENTLY " if schema_editor.connection.vendor == "postgresql" else ""
    schema_editor.execute(f"CREATE INDEX {concurrently}IF NOT EXISTS activity_by ON leads_activity {COLUMNS}")


def drop(apps, schema_editor):
    concurrently = "CONCURRENTLY " if schema_editor.connection.vendor == "postgresql" else ""
    schema_editor.execute(f"DROP INDEX {concurrently}IF EXISTS activity_by")


class Migration(migrations.Migration):
    atomic = False
    dependencies = [("leads", "0020_sequence_step_tasks")]
    operations = [
        migrations.SeparateDatabaseAndState(
            database_operations=[migrations.RunPython(create, drop, elidable=False)],
            state_operations=[migrations.AddIndex(
                "activity", models.Index(fields=["created_by", "occurred_at"], name="activity_by"))],
        ),
    ]
