"""The search table's trigger (migration 0031) updates the row of a live lead in place
instead of trying an insert first (`INSERT … ON CONFLICT DO UPDATE`): a lead given a new
owner, which routing does to every routed lead inside the pool's turn, costs one plain
update of a narrow row whose text did not change. Inserts, restores and deletes are as
before. PostgreSQL only: SQLite's triggers are unchanged."""

import importlib

from django.db import migrations

before = importlib.import_module("leads.migrations.0031_lead_search")
TEXT = before.TEXT.format(r="NEW")

UPDATE_IN_PLACE = f"""CREATE OR REPLACE FUNCTION leads_lead_search_sync() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN
        IF TG_OP = 'DELETE' THEN
            DELETE FROM leads_leadsearch WHERE lead_id = OLD.id;
            RETURN NULL;
        END IF;
        IF NEW.deleted_at IS NOT NULL THEN
            DELETE FROM leads_leadsearch WHERE lead_id = NEW.id;
            RETURN NULL;
        END IF;
        IF TG_OP = 'UPDATE' AND OLD.deleted_at IS NULL THEN
            UPDATE leads_leadsearch SET owner_id = NEW.owner_id, created_by_id = NEW.created_by_id, haystack = {TEXT}
            WHERE lead_id = NEW.id;
            IF FOUND THEN
                RETURN NULL;
            END IF;
        END IF;
        INSERT INTO leads_leadsearch (lead_id, owner_id, created_by_id, haystack)
        VALUES (NEW.id, NEW.owner_id, NEW.created_by_id, {TEXT})
        ON CONFLICT (lead_id) DO UPDATE SET owner_id = EXCLUDED.owner_id,
            created_by_id = EXCLUDED.created_by_id, haystack = EXCLUDED.haystack;
        RETURN NULL;
    END $$"""


def update_in_place(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(UPDATE_IN_PLACE)


def insert_first(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(before.POSTGRES[0])


class Migration(migrations.Migration):

    dependencies = [
        ("leads", "0031_lead_search"),
    ]

    operations = [migrations.RunPython(update_in_place, insert_first)]
