"""IQM pages and the lead page's IQM card (issue 5)."""

from __future__ import annotations

from typing import Any

from django.urls import URLPattern

from leads.models import Lead
from sdrcrm.models import User

urlpatterns: list[URLPattern] = []


def lead_context(lead: Lead, user: User, can_edit: bool) -> dict[str, Any]:
    """What the lead page shows of IQMs."""
    return {}
