"""`{{ task.due_at|when }}`: a moment as a work list says it, in the page's zone: "Today
10:17", "Yesterday 16:00", "Tomorrow 09:00", "Mon 14:30" within a week either side,
"25 Oct 19:46" this year, "25 Oct 2025" before. The full date and zone go in a title
(`{{ task.due_at|date:"Y-m-d H:i T" }}`) for whoever needs them."""

from __future__ import annotations

from datetime import datetime

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
