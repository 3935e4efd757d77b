"""Recoverable deletes (docs/rules.md §11.2): `deleted_at` and `deleted_by` on opportunities,
and a partial index of the deleted ones (the Recently deleted page and the purge). The
nullable columns are added without a rewrite; the index is built CONCURRENTLY on
PostgreSQL, so the table keeps taking writes (hence not atomic)."""

import django.db.models.deletion
from django.conf import settings
from django.db import migrations, models

NAME = "opportunity_deleted"


def how(schema_editor) -> str:
    return "CONCURRENTLY " if schema_editor.connection.vendor == "postgresql" else ""


def create(apps, schema_editor):
    schema_editor.execute(f"CREATE INDEX {how(schema_editor)}IF NOT EXISTS {NAME} "
                          "ON opportunities_opportunity (deleted_at, id) WHERE deleted_at IS NOT NULL")


def drop(apps, schema_editor):
    schema_editor.execute(f"DROP INDEX {how(schema_editor)}IF EXISTS {NAME}")


class Migration(migrations.Migration):
    atomic = False
    dependencies = [
        ("opportunities", "0003_sdr_sqo_won"),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]
    operations = [
        migrations.AddField(model_name="opportunity", name="deleted_at",
                            field=models.DateTimeField(blank=True, editable=False, null=True)),
        migrations.AddField(model_name="opportunity", name="deleted_by", field=models.ForeignKey(
            blank=True, db_index=False, editable=False, null=True, on_delete=django.db.models.deletion.SET_NULL,
            related_name="+", to=settings.AUTH_USER_MODEL)),
        migrations.SeparateDatabaseAndState(
            database_operations=[migrations.RunPython(create, drop, elidable=False)],
            state_operations=[migrations.AddIndex("opportunity", models.Index(
                fields=["deleted_at", "id"], name=NAME, condition=models.Q(deleted_at__isnull=False)))],
        ),
    ]
