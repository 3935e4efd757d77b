"""Round robin's turn (routing_take_turn, migration 0004) queues on the pool's own row
before it locks the members: concurrent turns then wait for one lock and wake one at a
time, instead of each queueing on every member row and re-reading it when the one before
commits. With the lead's owner written, 8 assigners went from 1,066-1,146 to 1,257-1,318
turns a second against PostgreSQL directly (pgbench, bench/REPORT.md). The members' row
locks stay, so every other writer of the members (a pool edit, a batch's turns) is
excluded as before; all of them take the pool's row first too, so no two orders meet.
`FOR NO KEY UPDATE`: routing decisions and new members, whose foreign keys only share the
pool's key, do not wait for it."""

import importlib

from django.db import migrations

before = importlib.import_module("routing.migrations.0004_take_turn_function")

LOCK_THE_POOL = """BEGIN
    PERFORM 1 FROM routing_pool rp WHERE rp.id = p_pool FOR NO KEY UPDATE;
"""
CREATE = before.CREATE.replace("BEGIN\n", LOCK_THE_POOL, 1)
assert CREATE != before.CREATE


def create(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(CREATE)


def restore(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(before.CREATE)


class Migration(migrations.Migration):

    dependencies = [
        ("routing", "0004_take_turn_function"),
    ]

    operations = [migrations.RunPython(create, restore)]
