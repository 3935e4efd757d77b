"""The global search's narrow table of live leads (leads/models/search.py), kept by triggers
on `leads_lead` on both databases, filled from the leads there are, and on PostgreSQL given
the trigram index the lead table's own (`lead_search_trgm`, migration 0014) had, which it
replaces: a lead's text is searched here now.

Not atomic: the triggers are in place before the table is filled, so a lead written during
the fill is kept by its trigger (the fill leaves a row it finds already there alone), and
the indexes are built CONCURRENTLY, so a large lead table keeps taking writes meanwhile.
At a million leads the fill and the index take about a minute on PostgreSQL."""

import django.db.models.deletion
from django.db import migrations, models

TEXT = "UPPER({r}.first_name || ' ' || {r}.last_name || ' ' || {r}.email || ' ' || {r}.company || ' ' || {r}.phone)"
WATCHED = ("first_name", "last_name", "email", "company", "phone", "owner_id", "created_by_id", "deleted_at")

POSTGRES = [
    f"""CREATE OR REPLACE FUNCTION leads_lead_search_sync() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN
        IF TG_OP = 'DELETE' THEN
            DELETE FROM leads_leadsearch WHERE lead_id = OLD.id;
            RETURN NULL;
        END IF;
        IF NEW.deleted_at IS NOT NULL THEN
            DELETE FROM leads_leadsearch WHERE lead_id = NEW.id;
            RETURN NULL;
        END IF;
        INSERT INTO leads_leadsearch (lead_id, owner_id, created_by_id, haystack)
        VALUES (NEW.id, NEW.owner_id, NEW.created_by_id, {TEXT.format(r="NEW")})
        ON CONFLICT (lead_id) DO UPDATE SET owner_id = EXCLUDED.owner_id,
            created_by_id = EXCLUDED.created_by_id, haystack = EXCLUDED.haystack;
        RETURN NULL;
    END $$""",
    """CREATE TRIGGER leads_lead_search_insert AFTER INSERT ON leads_lead
    FOR EACH ROW WHEN (NEW.deleted_at IS NULL) EXECUTE FUNCTION leads_lead_search_sync()""",
    f"""CREATE TRIGGER leads_lead_search_update AFTER UPDATE OF {", ".join(WATCHED)} ON leads_lead
    FOR EACH ROW WHEN ({" OR ".join(f"OLD.{c} IS DISTINCT FROM NEW.{c}" for c in WATCHED)})
    EXECUTE FUNCTION leads_lead_search_sync()""",
    """CREATE TRIGGER leads_lead_search_delete AFTER DELETE ON leads_lead
    FOR EACH ROW EXECUTE FUNCTION leads_lead_search_sync()""",
]
POSTGRES_DROP = [
    "DROP TRIGGER IF EXISTS leads_lead_search_insert ON leads_lead",
    "DROP TRIGGER IF EXISTS leads_lead_search_update ON leads_lead",
    "DROP TRIGGER IF EXISTS leads_lead_search_delete ON leads_lead",
    "DROP FUNCTION IF EXISTS leads_lead_search_sync()",
]

SQLITE_ROW = f"SELECT NEW.id, NEW.owner_id, NEW.created_by_id, {TEXT.format(r='NEW')} WHERE NEW.deleted_at IS NULL"
SQLITE = [
    f"""CREATE TRIGGER leads_lead_search_insert AFTER INSERT ON leads_lead BEGIN
        INSERT INTO leads_leadsearch (lead_id, owner_id, created_by_id, haystack) {SQLITE_ROW};
    END""",
    f"""CREATE TRIGGER leads_lead_search_update AFTER UPDATE OF {", ".join(WATCHED)} ON leads_lead BEGIN
        DELETE FROM leads_leadsearch WHERE lead_id = OLD.id;
        INSERT INTO leads_leadsearch (lead_id, owner_id, created_by_id, haystack) {SQLITE_ROW};
    END""",
    """CREATE TRIGGER leads_lead_search_delete AFTER DELETE ON leads_lead BEGIN
        DELETE FROM leads_leadsearch WHERE lead_id = OLD.id;
    END""",
]
SQLITE_DROP = [
    "DROP TRIGGER IF EXISTS leads_lead_search_insert",
    "DROP TRIGGER IF EXISTS leads_lead_search_update",
    "DROP TRIGGER IF EXISTS leads_lead_search_delete",
]

FILL = f"""INSERT INTO leads_leadsearch (lead_id, owner_id, created_by_id, haystack)
    SELECT l.id, l.owner_id, l.created_by_id, {TEXT.format(r="l")} FROM leads_lead l WHERE l.deleted_at IS NULL
    ON CONFLICT (lead_id) DO NOTHING"""


def create(apps, schema_editor):
    postgres = schema_editor.connection.vendor == "postgresql"
    for statement in POSTGRES if postgres else SQLITE:
        schema_editor.execute(statement)
    schema_editor.execute(FILL)
    if postgres:
        # Its walks stop at the tenth match: a parallel plan's workers cost more than the walk
        # (13 ms against 0.5 ms at a million leads, bench/REPORT.md).
        schema_editor.execute("ALTER TABLE leads_leadsearch SET (parallel_workers = 0)")
        schema_editor.execute("ANALYZE leads_leadsearch")
        schema_editor.execute("CREATE INDEX CONCURRENTLY IF NOT EXISTS lead_search_text_trgm "
                              "ON leads_leadsearch USING gin (haystack gin_trgm_ops)")
        schema_editor.execute("DROP INDEX CONCURRENTLY IF EXISTS lead_search_trgm")


def drop(apps, schema_editor):
    postgres = schema_editor.connection.vendor == "postgresql"
    if postgres:
        schema_editor.execute(
            "CREATE INDEX CONCURRENTLY IF NOT EXISTS lead_search_trgm ON leads_lead USING gin "
            "((UPPER(first_name || ' ' || last_name || ' ' || email || ' ' || company || ' ' || phone)) gin_trgm_ops)")
    for statement in POSTGRES_DROP if postgres else SQLITE_DROP:
        schema_editor.execute(statement)


class Migration(migrations.Migration):
    atomic = False
    dependencies = [
        ("leads", "0030_analyze_soft_delete_columns"),
    ]

    operations = [
        migrations.CreateModel(
            name="LeadSearch",
            fields=[
                ("lead", models.OneToOneField(db_constraint=False, on_delete=django.db.models.deletion.DO_NOTHING,
                                              primary_key=True, related_name="+", serialize=False, to="leads.lead")),
                ("owner_id", models.BigIntegerField(null=True)),
                ("created_by_id", models.BigIntegerField(null=True)),
                ("haystack", models.TextField()),
            ],
            options={
                "default_permissions": (),
            },
        ),
        migrations.RunPython(create, drop, elidable=False),
    ]
