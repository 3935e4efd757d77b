"""Statements PostgreSQL parses and plans once per connection.

A statement sent as text is parsed, analysed and planned on every call: for the short
statements every ingest sends (a lead by email, the matched account, the lead's insert, a
ledger row), that is most of the server's work. pgbench, the lead and account lookups of
an ingest: 0.40 ms sent as text, 0.14 ms prepared.

Code marks such a statement by handing the cursor a `Prepared` string instead of a plain
one: the same text, `%s` placeholders and all, so every database runs it as it is and
Django records it as it is. The project's PostgreSQL backend (sdrcrm/postgresql) sends it
as `PREPARE` the first time a connection runs it and as `EXECUTE` from then on. Mark only
statements of a fixed shape whose every placeholder stands where PostgreSQL can tell its
type (a column compared or written, a function's argument, a cast): a placeholder it
cannot type would be read as text.
"""

from __future__ import annotations

import re

_PLACEHOLDER = re.compile(r"%[s%]")


class Prepared(str):
    """An SQL statement (`%s` placeholders) to prepare once per connection."""

    __slots__ = ()


def numbered(sql: str) -> tuple[str, int]:
    """`sql` with its `%s` placeholders numbered as PREPARE takes them ($1, $2, …) and
    `%%` back to `%`, and the number of placeholders."""
    count = 0

    def number(match: re.Match[str]) -> str:
        nonlocal count
        if match.group() == "%%":
            return "%"
        count += 1
        return f"${count}"

    return _PLACEHOLDER.sub(number, sql), count
