"""Pages for lead conversion (issue 5)."""

from __future__ import annotations

from typing import Any

from django.urls import URLPattern

from sdrcrm.models import User

from .models import Lead

urlpatterns: list[URLPattern] = []


def lead_context(lead: Lead, user: User, can_edit: bool) -> dict[str, Any]:
    """What the lead page shows for conversion."""
    return {}
