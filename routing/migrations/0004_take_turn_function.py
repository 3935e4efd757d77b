"""Round robin's turn as one PostgreSQL function (routing/pools.py, next_in_pool): lock the
pool's available members in id order, choose by smooth weighted round robin, do the
bookkeeping and, when a lead is given, write its owner (and start its follow-up clock, the
due time by the member's region), all in one round trip. The members'
row locks are then held for that call and the commit only, which is what lets 8 assigners
share one pool at more than 1,000 assignments a second (bench/REPORT.md). SQLite, where one
writer runs at a time, takes the same steps from Python (routing/pools.py, _take_turn)."""

from django.db import migrations

CREATE = """
CREATE OR REPLACE FUNCTION routing_take_turn(p_pool bigint, p_exclude bigint, p_lead bigint,
                                             p_now timestamptz, p_sla_dues jsonb, p_sla_pool varchar)
RETURNS TABLE (id bigint, username varchar, first_name varchar, last_name varchar,
               region varchar, candidates bigint[])
LANGUAGE plpgsql AS $$
DECLARE
    m record;
    total integer := 0;
    member_ids bigint[] := '{}';
    user_ids bigint[] := '{}';
    positions integer[] := '{}';
    best_id bigint;
    best_key integer;
    best_position integer;
    chosen record;
BEGIN
    FOR m IN
        SELECT pm.id AS member_id, pm.position, pm.weight, pm.credit, u.id AS user_id, u.username,
               u.first_name, u.last_name, u.region
        FROM routing_poolmember pm JOIN sdrcrm_user u ON u.id = pm.user_id
        WHERE pm.pool_id = p_pool AND u.is_available AND u.is_active
          AND (p_exclude IS NULL OR pm.user_id <> p_exclude)
        ORDER BY pm.id
        FOR UPDATE OF pm
    LOOP
        total := total + m.weight;
        member_ids := member_ids || m.member_id;
        user_ids := user_ids || m.user_id;
        positions := positions || m.position::integer;
        -- The most credit after gaining its weight; on a tie the first by position, then id.
        IF best_id IS NULL OR m.credit + m.weight > best_key
           OR (m.credit + m.weight = best_key AND (m.position < best_position
               OR (m.position = best_position AND m.member_id < best_id))) THEN
            best_id := m.member_id;
            best_key := m.credit + m.weight;
            best_position := m.position;
            chosen := m;
        END IF;
    END LOOP;
    IF best_id IS NULL THEN
        RETURN;
    END IF;
    UPDATE routing_poolmember pm
    SET credit = pm.credit + pm.weight - CASE WHEN pm.id = best_id THEN total ELSE 0 END,
        assigned = pm.assigned + CASE WHEN pm.id = best_id THEN 1 ELSE 0 END
    WHERE pm.id = ANY(member_ids);
    IF p_lead IS NOT NULL AND p_sla_dues IS NULL THEN
        UPDATE leads_lead SET owner_id = chosen.user_id, queue_id = NULL, updated_at = p_now
        WHERE leads_lead.id = p_lead;
    ELSIF p_lead IS NOT NULL THEN
        -- The follow-up clock starts with the owner: due in their region's business day.
        UPDATE leads_lead SET owner_id = chosen.user_id, queue_id = NULL, updated_at = p_now,
            sla_due_at = (p_sla_dues ->> chosen.region)::timestamptz, sla_breached_at = NULL,
            sla_pool = p_sla_pool
        WHERE leads_lead.id = p_lead;
    END IF;
    RETURN QUERY SELECT chosen.user_id, chosen.username, chosen.first_name, chosen.last_name, chosen.region,
        (SELECT array_agg(t.u ORDER BY t.p, t.i)
         FROM unnest(user_ids, positions, member_ids) AS t(u, p, i));
END;
$$;
"""

DROP = "DROP FUNCTION IF EXISTS routing_take_turn(bigint, bigint, bigint, timestamptz, jsonb, varchar);"


def create(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(CREATE)


def drop(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(DROP)


class Migration(migrations.Migration):

    dependencies = [
        ("routing", "0003_routing_actions_as_choices"),
    ]

    operations = [migrations.RunPython(create, drop)]
