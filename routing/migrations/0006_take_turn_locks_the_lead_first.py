"""Round robin's turn (routing_take_turn, migrations 0004 and 0005) can take a lead's row
lock first without writing the lead (`p_lock_lead`): an activity that moves a lead to MQL
and gives it to a pool's next member then writes the move and the owner in one UPDATE of
the lead after the turn (leads.services.score_and_advance), instead of one UPDATE for the
move and a second, inside the turn, for the owner. Every writer still locks the lead
before the pool, so no two lock orders meet."""

import importlib

from django.db import migrations

before = importlib.import_module("routing.migrations.0005_take_turn_queues_on_the_pool")

OLD_SIGNATURE = "p_now timestamptz, p_sla_dues jsonb, p_sla_pool varchar)"
LOCK_THE_LEAD = """BEGIN
    IF p_lock_lead IS NOT NULL THEN
        PERFORM 1 FROM leads_lead WHERE leads_lead.id = p_lock_lead FOR NO KEY UPDATE;
    END IF;
"""
CREATE = (before.CREATE.replace(OLD_SIGNATURE, "p_now timestamptz, p_sla_dues jsonb, p_sla_pool varchar,\n"
                                "                                             p_lock_lead bigint)", 1)
          .replace("BEGIN\n", LOCK_THE_LEAD, 1))
assert CREATE.count("p_lock_lead") == 3
DROP_OLD = "DROP FUNCTION IF EXISTS routing_take_turn(bigint, bigint, bigint, timestamptz, jsonb, varchar);"
DROP_NEW = "DROP FUNCTION IF EXISTS routing_take_turn(bigint, bigint, bigint, timestamptz, jsonb, varchar, bigint);"


def create(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(DROP_OLD)
        schema_editor.execute(CREATE)


def restore(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(DROP_NEW)
        schema_editor.execute(before.CREATE)


class Migration(migrations.Migration):

    dependencies = [
        ("routing", "0005_take_turn_queues_on_the_pool"),
    ]

    operations = [migrations.RunPython(create, restore)]
