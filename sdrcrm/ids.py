"""Record ids as clients send them: a bigint primary key, 1 to MAX_ID."""

from __future__ import annotations

MAX_ID = 2**63 - 1


def as_id(text: str | None) -> int | None:
    """The id `text` names, or None when it names none. isdecimal, not isdigit: int()
    refuses digits such as "²", and a number past a bigint is no id either."""
    if not text or not text.isdecimal():
        return None
    value = int(text)
    return value if 1 <= value <= MAX_ID else None
