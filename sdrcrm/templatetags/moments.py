"""`{{ task.due_at|when }}`: a moment as a work list says it, in the page's zone: "Today
10:17", "Yesterday 16:00", "Tomorrow 09:00", "Mon 14:30" within a week either side,
"25 Oct 19:46" this year, "25 Oct 2025" before. The full date and zone go in a title
(`{{ task.due_at|date:"Y-m-d H:i T" }}`) for whoever needs them.

`{{ run|took }}`: how long a job run took, to a tenth of a second under ten seconds
("0.4 s", "12 s", "3 min 5 s", "1 h 20 min"); Django's `timesince` says "0 minutes" for
anything under a minute, which most runs are."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from django import template
from django.utils import timezone

register = template.Library()


def moment(value: datetime, now: datetime) -> str:
    local, today = timezone.localtime(value), timezone.localtime(now)
    days, clock = (local.date() - today.date()).days, f"{local:%H:%M}"
    if days == 0:
        return f"Today {clock}"
    if days in (-1, 1):
        return f"{'Yesterday' if days < 0 else 'Tomorrow'} {clock}"
    if -6 <= days <= 6:
        return f"{local:%a} {clock}"
    if local.year == today.year:
        return f"{local.day} {local:%b} {clock}"
    return f"{local.day} {local:%b %Y}"


@register.filter
def when(value: datetime | None) -> str:
    return "" if value is None else moment(value, timezone.now())


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
