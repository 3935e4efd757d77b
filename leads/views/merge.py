"""The lead page's Duplicates card: possible duplicates with a "Merge into this lead"
button for editors, and the leads merged into this one with "Undo" for ops. The rules
are in leads/merge.py."""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect
from django.views.decorators.http import require_POST

from leads import merge as lead_merge
from leads.models import Lead
from sdrcrm.errors import Refused
from sdrcrm.ids import MAX_ID
from sdrcrm.models import User

from .access import editable_lead

# The merges listed on the page: the newest; the API lists them all.
MERGES_SHOWN = 10


def lead_context(lead: Lead, user: User, can_edit: bool) -> dict[str, Any]:
    """What the Duplicates card shows (five queries at most)."""
    duplicates = lead_merge.find_duplicates(lead, user)
    open_lead = not lead.is_converted and lead.spam_marked_at is None
    mergeable: set[int] = set()
    candidates = [d.person.pk for d in duplicates if d.is_lead and d.person.spam_marked_at is None]
    if can_edit and open_lead and candidates:
        mergeable = set(Lead.objects.editable_by(user).filter(pk__in=candidates).values_list("pk", flat=True))
    merges = list(lead_merge.merges_into(lead)
                  .select_related("marked_by", "undone_by").order_by("-deleted_at", "-id")[:MERGES_SHOWN])
    return {
        "merge_duplicates": [(d, d.is_lead and d.person.pk in mergeable) for d in duplicates],
        "merge_history": merges,
        "can_undo_merge": user.is_ops,
    }


@login_required
@require_POST
def lead_merge_view(request: HttpRequest, pk: int) -> HttpResponse:
    lead = editable_lead(request, pk)
    if lead is None:
        return redirect("leads:detail", pk=pk)
    raw = request.POST.get("duplicate", "")
    other = None
    if raw.isdecimal() and 0 < int(raw) <= MAX_ID:
        other = Lead.objects.visible_to(request.user).filter(pk=int(raw)).first()
    if other is None:
        messages.error(request, "Pick a duplicate lead to merge into this one.")
        return redirect("leads:detail", pk=pk)
    try:
        lead_merge.merge_leads(lead, other, by=request.user)
    except Refused as exc:
        messages.error(request, exc.message)
    else:
        messages.success(request, f"Merged {other.full_name} ({other.email}) into this lead; ops can undo it.")
    return redirect("leads:detail", pk=pk)


@login_required
@require_POST
def merge_undo_view(request: HttpRequest, pk: int, tombstone_id: int) -> HttpResponse:
    lead = get_object_or_404(Lead.objects.visible_to(request.user), pk=pk)
    if not request.user.is_ops:
        raise PermissionDenied("Only Sales-Dev Ops may undo a merge.")
    tombstone = get_object_or_404(lead_merge.merges_into(lead), pk=tombstone_id)
    try:
        restored = lead_merge.undo_merge(tombstone, by=request.user)
    except Refused as exc:
        messages.error(request, exc.message)
        return redirect("leads:detail", pk=pk)
    messages.success(request, f"Merge undone: {restored.full_name} ({restored.email}) is back as a lead.")
    return redirect("leads:detail", pk=restored.pk)
