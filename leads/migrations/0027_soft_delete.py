"""Recoverable deletes (docs/rules.md §11.2): `deleted_at` and `deleted_by` on leads, contacts
and accounts, a partial index of the deleted rows of each (the Recently deleted page and
the purge), and the funnel's covering index rebuilt for live leads only, so the SAO
dashboard still counts its cohort from the index alone once deleted leads are left out.

The nullable columns are added without a rewrite; the indexes are built CONCURRENTLY on
PostgreSQL, the new funnel index before the old one is dropped, so the lead table keeps
taking writes (hence not atomic). SQLite has no covering indexes and gets plain ones."""

import django.db.models.deletion
from django.conf import settings
from django.db import migrations, models

NEW, OLD = "lead_owner_mql_live", "lead_owner_mql_source"
INCLUDE = " INCLUDE (initial_source, id, accepted_at, qualifying_at)"
DELETED = {"lead": "lead_deleted", "contact": "contact_deleted", "account": "account_deleted"}


def create(apps, schema_editor):
    postgres = schema_editor.connection.vendor == "postgresql"
    how, include = ("CONCURRENTLY ", INCLUDE) if postgres else ("", "")
    for model, name in DELETED.items():
        schema_editor.execute(f"CREATE INDEX {how}IF NOT EXISTS {name} ON leads_{model} (deleted_at, id) "
                              "WHERE deleted_at IS NOT NULL")
    schema_editor.execute(f"CREATE INDEX {how}IF NOT EXISTS {NEW} ON leads_lead (owner_id, mql_at){include} "
                          "WHERE mql_at IS NOT NULL AND deleted_at IS NULL")
    schema_editor.execute(f"DROP INDEX {how}IF EXISTS {OLD}")


def drop(apps, schema_editor):
    postgres = schema_editor.connection.vendor == "postgresql"
    how, include = ("CONCURRENTLY ", INCLUDE) if postgres else ("", "")
    schema_editor.execute(f"CREATE INDEX {how}IF NOT EXISTS {OLD} ON leads_lead (owner_id, mql_at){include} "
                          "WHERE mql_at IS NOT NULL")
    for name in [NEW, *DELETED.values()]:
        schema_editor.execute(f"DROP INDEX {how}IF EXISTS {name}")


def deleted_fields(model):
    return [
        migrations.AddField(model_name=model, name="deleted_at",
                            field=models.DateTimeField(blank=True, editable=False, null=True)),
        migrations.AddField(model_name=model, name="deleted_by", field=models.ForeignKey(
            blank=True, db_index=False, editable=False, null=True, on_delete=django.db.models.deletion.SET_NULL,
            related_name="+", to=settings.AUTH_USER_MODEL)),
    ]


class Migration(migrations.Migration):
    atomic = False
    dependencies = [
        ("leads", "0026_imports"),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]
    operations = [
        *deleted_fields("lead"), *deleted_fields("contact"), *deleted_fields("account"),
        migrations.SeparateDatabaseAndState(
            database_operations=[migrations.RunPython(create, drop, elidable=False)],
            state_operations=[
                migrations.RemoveIndex("lead", OLD),
                migrations.AddIndex("lead", models.Index(
                    fields=["owner", "mql_at"], include=["initial_source", "id", "accepted_at", "qualifying_at"],
                    name=NEW,
                    condition=models.Q(mql_at__isnull=False, deleted_at__isnull=True))),
                *[migrations.AddIndex(model, models.Index(fields=["deleted_at", "id"], name=name,
                                                          condition=models.Q(deleted_at__isnull=False)))
                  for model, name in DELETED.items()],
            ],
        ),
    ]
