"""`{{ run|took }}`: how long a job run took, to a tenth of a second under ten seconds
("0.4 s", "12 s", "3 min 5 s", "1 h 20 min"); Django's `timesince` says "0 minutes" for
anything under a minute, which most runs are."""

from __future__ import annotations

from typing import Any

from django import template

register = template.Library()


@register.filter
def took(run: Any) -> str:
    if run.finished_at is None:
        return ""
    seconds = max(0.0, (run.finished_at - run.started_at).total_seconds())
    if seconds < 10:
        return f"{seconds:.1f} s"
    whole = round(seconds)
    if whole < 60:
        return f"{whole} s"
    if whole < 3600:
        return f"{whole // 60} min {whole % 60} s"
    return f"{whole // 3600} h {whole % 3600 // 60} min"
