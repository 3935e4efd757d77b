"""Configuration rows that every ingest reads (scoring rules, the active routing rule
set, territories, queue and pool ids), cached in each process.

A cached value is keyed by the token of the one `ConfigStamp` row. Every save or
delete of a watched model writes a new random token in the same transaction, so the
next read in any process (web or worker) sees the change (so does every `migrate`, for
the data migrations that write rows without signals); a rolled-back change leaves
the old token, which still matches the old rows. A request reads the token once
(`pinned`, from the middleware) and keeps that view of the configuration to its end;
code outside a request reads it on every call. The ingest's first statement reads it
along (TOKEN_COLUMN, pin_token), so an ingest request sends no statement for it.

Cached values are shared between requests: loaders return immutable values (tuples,
frozen dataclasses, dicts nobody writes to).
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from typing import Any

from django.db import connection, models
from django.db.models.signals import post_delete, post_save

from .models import ConfigStamp
from .prepared import Prepared

LOADERS: dict[str, Callable[[], Any]] = {}
# (token, {key: value}) of this process; replaced whole, never mutated in place.
_cache: tuple[str, dict[str, Any]] = ("", {})
# Inside `pinned`: a one-item list holding the request's token once it is read.
_pinned: ContextVar[list[str] | None] = ContextVar("config_pinned", default=None)


def register(key: str, loader: Callable[[], Any]) -> None:
    LOADERS[key] = loader


def watch(*watched: type[models.Model]) -> None:
    """Any save or delete of these models changes the token."""
    for model in watched:
        post_save.connect(_changed, sender=model, dispatch_uid=f"config-{model._meta.label}-save")
        post_delete.connect(_changed, sender=model, dispatch_uid=f"config-{model._meta.label}-delete")


def _changed(**kwargs: Any) -> None:
    changed()


def changed() -> None:
    """Call after writing watched rows without signals (queryset update, bulk_create)."""
    token = uuid.uuid4().hex
    holder = _pinned.get()
    if holder:
        holder.clear()  # this unit of work sees its own change from here on
    if not ConfigStamp.objects.filter(pk=1).update(token=token):
        ConfigStamp.objects.create(pk=1, token=token)


def changed_after_migrate(using: str, **kwargs: Any) -> None:
    """post_migrate: a data migration may have rewritten watched rows without signals."""
    from django.db import DEFAULT_DB_ALIAS, connections

    if using == DEFAULT_DB_ALIAS and ConfigStamp._meta.db_table in connections[using].introspection.table_names():
        changed()


# The token as a column of another statement: a request's first statement can read it
# along (pin_token) instead of a round trip of its own.
TOKEN_COLUMN = f"(SELECT token FROM {ConfigStamp._meta.db_table} WHERE id = 1)"


def pin_token(token: str | None) -> None:
    """Inside `pinned`: take `token`, read along with another statement (TOKEN_COLUMN), as
    the unit of work's view of the configuration, unless it has one already. Outside: nothing."""
    holder = _pinned.get()
    if holder is not None and not holder:
        holder.append(token or "")


def _read_token() -> str:
    # Plain SQL: it runs on every ingest request, and the ORM would cost ten times more.
    with connection.cursor() as cursor:
        cursor.execute(Prepared(f"SELECT token FROM {ConfigStamp._meta.db_table} WHERE id = 1"))
        row = cursor.fetchone()
    return row[0] if row else ""


def _token() -> str:
    holder = _pinned.get()
    if holder is None:
        return _read_token()
    if not holder:
        holder.append(_read_token())
    return holder[0]


def get(key: str) -> Any:
    """The value of a registered loader under the current configuration."""
    global _cache
    token = _token()
    cached_token, values = _cache
    if token and token == cached_token and key in values:
        return values[key]
    value = LOADERS[key]()
    # Keep it only if no change committed while it was loading: else it may be newer
    # than `token` says, and would outlive the change's own token.
    if token and _read_token() == token:
        cached_token, values = _cache
        _cache = (token, {**values, key: value} if cached_token == token else {key: value})
    return value


@contextmanager
def pinned() -> Iterator[None]:
    """One view of the configuration for a unit of work (a request): the token is read
    at most once inside."""
    reset = _pinned.set([])
    try:
        yield
    finally:
        _pinned.reset(reset)


class PinConfigMiddleware:
    def __init__(self, get_response: Callable[[Any], Any]) -> None:
        self.get_response = get_response

    def __call__(self, request: Any) -> Any:
        with pinned():
            return self.get_response(request)
