"""The timeline card of the lead and contact pages (leads/timeline.py builds it)."""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.http import HttpRequest

from leads import timeline
from leads.models import Person


def timeline_context(request: HttpRequest, person: Person) -> dict[str, Any]:
    raw = request.GET.get("before", "")
    cursor = timeline.parse_cursor(raw) if raw else None
    if raw and cursor is None:
        messages.error(request, "That timeline link is out of date; showing the newest.")
    entries, older = timeline.timeline(person, cursor)
    return {"entries": entries, "older": older}
