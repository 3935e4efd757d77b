"""CSV exports of list views: streamed row by row (a million leads never sit in memory),
and safe to open in a spreadsheet: a cell that starts like a formula (=, +, -, @, a tab or
a carriage return) is prefixed with a quote, so it is shown, never evaluated (OWASP's
advice against CSV injection)."""

from __future__ import annotations

import csv
from collections.abc import Iterable, Iterator, Sequence
from datetime import UTC, datetime
from typing import Any

from django.http import StreamingHttpResponse
from django.utils import timezone

FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def cell(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, datetime):  # in UTC, as the API (a file is shared beyond one zone)
        return (value.astimezone(UTC) if timezone.is_aware(value) else value).strftime("%Y-%m-%d %H:%M:%S")
    text = str(value)
    return f"'{text}" if text.startswith(FORMULA_STARTS) else text


class _Echo:
    """csv.writer wants a file; this one hands each line back instead of storing it."""

    def write(self, line: str) -> str:
        return line


def csv_response(filename: str, header: Sequence[str], rows: Iterable[Sequence[Any]]) -> StreamingHttpResponse:
    writer = csv.writer(_Echo())

    def lines() -> Iterator[str]:
        yield writer.writerow(header)
        for row in rows:
            yield writer.writerow([cell(value) for value in row])

    response = StreamingHttpResponse(lines(), content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    return response
