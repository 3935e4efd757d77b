"""Routing's hand-written SQL. Each statement runs on every routed (or ingested) lead,
and the ORM took longer to compile it than the database took to run it; sdrcrm.rows
converts what they read with the ORM's own converters."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from django.db import DEFAULT_DB_ALIAS

from leads.models import Account, Lead
from opportunities.models import OPEN_STAGES, Opportunity
from sdrcrm import rows
from sdrcrm.database import default_connection
from sdrcrm.models import User
from sdrcrm.prepared import Prepared

# Routing rule 3's "open opportunity" (any stage before closed, pre-opportunity included) of
# the account read, as a column `open_opportunity` of the same statement: the facts need it
# whenever a lead with an account is routed, and a second query cost more than the answer.
_OPEN_STAGES = sorted(stage.value for stage in OPEN_STAGES)
OPEN_OPPORTUNITY = (f"EXISTS (SELECT 1 FROM {Opportunity._meta.db_table} o WHERE o.account_id = leads_account.id"
                    f" AND o.stage IN ({', '.join(['%s'] * len(_OPEN_STAGES))}) AND o.deleted_at IS NULL)")
ACCOUNT_ATTNAMES = [f.attname for f in Account._meta.concrete_fields]
ACCOUNT_COLUMNS = (", ".join(f'leads_account."{f.column}"' for f in Account._meta.concrete_fields)
                   + f", {OPEN_OPPORTUNITY}")


def account_matching(domain: str, key: str) -> Account | None:
    """The account with this domain (lowest id), else the one with this name key; blanks
    are not looked for, nor deleted accounts. One statement when both are given. The
    account has `open_opportunity` set (see OPEN_OPPORTUNITY)."""
    found = account_matching_sql(domain, key)
    return None if found is None else _account(*found)


def account_matching_sql(domain: str, key: str) -> tuple[str, list[Any]] | None:
    """account_matching's statement, selecting ACCOUNT_COLUMNS, with its values (the open
    stages first), for a caller that reads it inside its own (leads.queries); None when
    there is nothing to look for."""
    if domain and key:
        sql, params = (f"SELECT {ACCOUNT_COLUMNS} FROM leads_account WHERE (domain = %s OR name_key = %s)"
                       " AND deleted_at IS NULL ORDER BY domain = %s DESC, id LIMIT 1", [domain, key, domain])
    elif domain or key:
        sql, params = (f"SELECT {ACCOUNT_COLUMNS} FROM leads_account WHERE {'domain' if domain else 'name_key'} = %s"
                       " AND deleted_at IS NULL ORDER BY id LIMIT 1", [domain or key])
    else:
        return None
    return sql, [*_OPEN_STAGES, *params]


def account_by_id(pk: int) -> Account | None:
    """The account a lead is linked to, deleted or not (as `lead.account` reads it), with
    `open_opportunity` set."""
    return _account(f"SELECT {ACCOUNT_COLUMNS} FROM leads_account WHERE id = %s", [*_OPEN_STAGES, pk])


def _account(sql: str, params: list[Any]) -> Account | None:
    found = rows.fetch(Account, ACCOUNT_ATTNAMES, Prepared(sql), params)
    return account_of(found[0]) if found else None


def account_of(row: list[Any]) -> Account:
    """The account of a row of ACCOUNT_COLUMNS, converted (sdrcrm.rows)."""
    account = Account.from_db(DEFAULT_DB_ALIAS, ACCOUNT_ATTNAMES, row[:-1])
    account.open_opportunity = bool(row[-1])  # a column after the account's own (not converted)
    return account


def has_open_opportunity(account_id: int) -> bool:
    connection = default_connection()
    with connection.cursor() as cursor:
        cursor.execute(Prepared(f"SELECT {OPEN_OPPORTUNITY.replace('leads_account.id', '%s')}"),
                       [account_id, *_OPEN_STAGES])
        return bool(cursor.fetchone()[0])


def colleagues(domain: str, exclude: int | None, statuses: Sequence[str], limit: int) -> list[list[Any]]:
    """Owned live leads at the email domain in `statuses`, but the lead `exclude`: (id, owner,
    status, mql_at) rows."""
    sql = (f"SELECT id, owner_id, status, mql_at FROM leads_lead WHERE email_domain = %s AND owner_id IS NOT NULL"
           f" AND status IN ({', '.join(['%s'] * len(statuses))}) AND deleted_at IS NULL")
    params: list[Any] = [domain, *statuses]
    if exclude is not None:
        sql += " AND id <> %s"
        params.append(exclude)
    return rows.fetch(Lead, ("id", "owner_id", "status", "mql_at"), Prepared(sql + f" LIMIT {int(limit)}"), params)


def owner_region(owner_id: int) -> str | None:
    found = rows.fetch(User, ("region",), Prepared("SELECT region FROM sdrcrm_user WHERE id = %s"), [owner_id])
    return found[0][0] if found else None


def owner_regions(owner_ids: set[int]) -> dict[int, str]:
    """owner_region for many owners at once."""
    if not owner_ids:
        return {}
    return dict(User.objects.filter(pk__in=owner_ids).values_list("pk", "region"))


# What round robin reads of a member's user, in the model's order (as User.from_db takes them).
MEMBER_USER_FIELDS = [field.attname for field in User._meta.concrete_fields
                      if field.attname in {"id", "username", "first_name", "last_name", "region"}]


def lock_available_members(pool_id: int, exclude: int | None) -> list[tuple[Any, ...]]:
    """The pool's available, active members, locked in id order (the lock order every
    caller keeps: ids never change, positions do) after the pool's own row, on which
    concurrent turns queue (routing/migrations/0005): (member id, position, weight, credit,
    *MEMBER_USER_FIELDS) rows. Call inside a transaction; the locks last to its end."""
    connection = default_connection()
    sql = (f"SELECT m.id, m.position, m.weight, m.credit, {', '.join('u.' + name for name in MEMBER_USER_FIELDS)}"
           " FROM routing_poolmember m JOIN sdrcrm_user u ON u.id = m.user_id"
           " WHERE m.pool_id = %s AND u.is_available AND u.is_active")
    params: list[Any] = [pool_id]
    if exclude is not None:
        sql += " AND m.user_id <> %s"
        params.append(exclude)
    sql += " ORDER BY m.id"
    locks = connection.features.has_select_for_update_of  # SQLite: the immediate transaction
    with connection.cursor() as cursor:
        if locks:
            cursor.execute(Prepared("SELECT 1 FROM routing_pool WHERE id = %s FOR NO KEY UPDATE"), [pool_id])
        cursor.execute(Prepared(sql + (" FOR UPDATE OF m" if locks else "")), params)
        return cursor.fetchall()


def take_turns(changes: dict[int, tuple[int, int]]) -> None:
    """Round robin's bookkeeping of one or more turns (routing.pools._turns): member id →
    (credit gained, assignments gained), in one statement."""
    connection = default_connection()
    if not changes:
        return
    ids = list(changes)
    cases = " ".join(["WHEN %s THEN %s"] * len(ids))
    with connection.cursor() as cursor:
        cursor.execute(
            f"UPDATE routing_poolmember SET credit = credit + CASE id {cases} ELSE 0 END,"
            f" assigned = assigned + CASE id {cases} ELSE 0 END"
            f" WHERE id IN ({', '.join(['%s'] * len(ids))})",
            [*(v for pk in ids for v in (pk, changes[pk][0])), *(v for pk in ids for v in (pk, changes[pk][1])),
             *ids])
