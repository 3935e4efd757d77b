"""The leads app's hand-written SQL. Each statement here runs on every ingested lead, and
the ORM spent longer compiling it (or preparing the lead's 47 columns) than the database
took to answer; sdrcrm.rows converts the rows with the ORM's own converters, and tests
compare each with its ORM equivalent."""

from __future__ import annotations

from django.db import connection

from sdrcrm import rows

from .models import Lead

LEAD_ATTNAMES = [f.attname for f in Lead._meta.concrete_fields]
LEAD_COLUMNS = ", ".join(f'"{f.column}"' for f in Lead._meta.concrete_fields)  # quoted as both databases quote


def lead_by_email(email: str, *, lock: bool = False, unconverted: bool = False, live: bool = False) -> Lead | None:
    """The lead with this (unique, normalised) email, every field loaded, deleted or not (a
    deleted lead keeps its email: ingest refuses it); `lock`: FOR UPDATE; `unconverted`:
    only a lead not converted yet; `live`: only a lead not deleted."""
    sql = f"SELECT {LEAD_COLUMNS} FROM leads_lead WHERE email = %s"
    if unconverted:
        sql += " AND converted_to_id IS NULL"
    if live:
        sql += " AND deleted_at IS NULL"
    if lock and connection.features.has_select_for_update:  # SQLite locks the whole database
        sql += " FOR UPDATE"
    found = rows.fetch(Lead, LEAD_ATTNAMES, sql, [email])
    return Lead.from_db(connection.alias, LEAD_ATTNAMES, found[0]) if found else None


# Every column but the id, as Model.save() inserts a new lead.
_INSERT_FIELDS = [f for f in Lead._meta.concrete_fields if not f.primary_key and not f.generated]
_INSERT_COLUMNS = ", ".join(f'"{f.column}"' for f in _INSERT_FIELDS)
_INSERT_SQL = (f"INSERT INTO leads_lead ({_INSERT_COLUMNS}) VALUES ({', '.join(['%s'] * len(_INSERT_FIELDS))}) "
               "ON CONFLICT (email) DO NOTHING RETURNING id")


def insert_lead(lead: Lead) -> bool:
    """Insert the new `lead` as `lead.save()` would (the same columns, values and
    auto_now stamps), unless its email is taken: False then, and nothing written. A
    concurrent twin's insert of the same email is waited for; once committed it is
    "taken". No savepoint is needed around it (two round trips): a conflict leaves no
    error behind in the transaction."""
    values = [f.get_db_prep_save(f.pre_save(lead, add=True), connection) for f in _INSERT_FIELDS]
    with connection.cursor() as cursor:
        cursor.execute(_INSERT_SQL, values)
        row = cursor.fetchone()
    if row is None:
        return False
    lead.pk = row[0]
    lead._state.adding, lead._state.db = False, connection.alias
    return True
