"""How a page gets the record it changes: 404 when the user may not see it, and a
message (no change) when they may read it only."""

from __future__ import annotations

from django.contrib import messages
from django.http import HttpRequest
from django.shortcuts import get_object_or_404

from leads.models import Lead


def editable_lead(request: HttpRequest, pk: int) -> Lead | None:
    """The lead if the user may change it; 404 if they may not see it; None (with a
    message) if they may only read it."""
    lead = get_object_or_404(Lead.objects.visible_to(request.user), pk=pk)
    if not Lead.objects.editable_by(request.user).filter(pk=pk).exists():
        messages.error(request, "You may read this lead but not change it.")
        return None
    return lead
