"""An index for the SAO dashboard's funnel: the leads of some SDRs that became MQL in a
period. Built CONCURRENTLY on PostgreSQL, so the lead table keeps taking writes meanwhile
(hence not atomic); a plain index elsewhere."""

from django.db import migrations, models

SQL = "CREATE INDEX {how}IF NOT EXISTS lead_owner_mql ON leads_lead (owner_id, mql_at) WHERE mql_at IS NOT NULL"


def create(apps, schema_editor):
    schema_editor.execute(SQL.format(how="CONCURRENTLY " if schema_editor.connection.vendor == "postgresql" else ""))


def drop(apps, schema_editor):
    how = "CONCURRENTLY " if schema_editor.connection.vendor == "postgresql" else ""
    schema_editor.execute(f"DROP INDEX {how}IF EXISTS lead_owner_mql")


class Migration(migrations.Migration):
    atomic = False
    dependencies = [("leads", "0021_activity_by")]
    operations = [
        migrations.SeparateDatabaseAndState(
            database_operations=[migrations.RunPython(create, drop, elidable=False)],
            state_operations=[migrations.AddIndex("lead", models.Index(
                fields=["owner", "mql_at"], name="lead_owner_mql", condition=models.Q(mql_at__isnull=False)))],
        ),
    ]
