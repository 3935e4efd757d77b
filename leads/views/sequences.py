"""Pages for sequences: the Sequences card on the lead page (enrol, record what happened,
finish) and the list of sequences. The rules are in leads/sequences.py."""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.http import require_POST

from leads import sequences
from leads.api.sequences import active_counts, step_counts
from leads.models import Enrollment, Lead, Sequence, SequenceEvent
from sdrcrm.errors import Refused
from sdrcrm.models import User

from .access import back_to_next, editable_lead

Kind = SequenceEvent.Kind


def lead_context(lead: Lead, can_edit: bool) -> dict[str, Any]:
    """What the lead page's Sequences card shows (three queries)."""
    enrollments = list(lead.enrollments.select_related("sequence").annotate(step_count=step_counts())
                       .order_by("-enrolled_at", "-id")[:20])
    for enrollment in enrollments:
        enrollment.step_options = [  # type: ignore[attr-defined]
            (n, n == enrollment.current_step + 1) for n in range(1, (enrollment.step_count or 0) + 1)]
    active = next((e for e in enrollments if e.state == Enrollment.State.ACTIVE), None)
    offer = can_edit and active is None
    return {
        "enrollments": enrollments,
        "active_enrollment": active,
        "enroll_sequences": list(Sequence.objects.filter(is_active=True).order_by("name")) if offer else [],
    }


def _lead_enrollment(request: HttpRequest, pk: int) -> Enrollment:
    user: User = request.user
    return get_object_or_404(
        Enrollment.objects.visible_to(user).filter(lead__isnull=False).select_related("sequence", "lead"), pk=pk
    )


@login_required
@require_POST
def lead_enroll(request: HttpRequest, pk: int) -> HttpResponse:
    lead = editable_lead(request, pk)
    if lead is None:
        return redirect("leads:detail", pk=pk)
    sequence_id = request.POST.get("sequence", "")
    sequence = Sequence.objects.filter(pk=sequence_id).first() if sequence_id.isdecimal() else None
    if sequence is None:
        messages.error(request, "Pick a sequence.")
        return redirect("leads:detail", pk=pk)
    try:
        _, warnings = sequences.enroll(lead, sequence, by=request.user)
    except Refused as exc:
        messages.error(request, exc.message)
    else:
        messages.success(request, f"Enrolled in {sequence.name}.")
        for warning in warnings:
            messages.warning(request, warning)
    return redirect("leads:detail", pk=pk)


@login_required
@require_POST
def enrollment_event(request: HttpRequest, pk: int) -> HttpResponse:
    """Record what happened ("Step 2 completed", "Replied", …); a worker applies it."""
    enrollment = _lead_enrollment(request, pk)
    lead = editable_lead(request, enrollment.lead_id)
    if lead is None:
        return redirect("leads:detail", pk=enrollment.lead_id)
    kind = request.POST.get("kind", "")
    step_text = request.POST.get("step", "")
    step = int(step_text) if step_text.isdecimal() and len(step_text) < 4 else None
    if kind not in Kind.values:
        messages.error(request, "Pick what happened: a step completed, a reply, finished or bounced.")
        return redirect("leads:detail", pk=lead.pk)
    try:
        event = sequences.record_event(enrollment, kind, step=step if kind == Kind.STEP_COMPLETED else None,
                                       by=request.user)
    except Refused as exc:
        messages.error(request, exc.message)
        return redirect("leads:detail", pk=lead.pk)
    event.refresh_from_db()
    if event.applied_at:  # applied already (an eager worker, or a fast one)
        messages.success(request, f"Recorded: {event.result[:1].upper()}{event.result[1:]}.")
    else:
        messages.success(request, f"Recorded: {event.get_kind_display()}. It is applied in a moment.")
    # The Today page marks steps done too, and gets its page back.
    return back_to_next(request) or redirect("leads:detail", pk=lead.pk)


@login_required
@require_POST
def enrollment_finish(request: HttpRequest, pk: int) -> HttpResponse:
    enrollment = _lead_enrollment(request, pk)
    if editable_lead(request, enrollment.lead_id) is None:
        return redirect("leads:detail", pk=enrollment.lead_id)
    try:
        sequences.finish_enrollment(enrollment)
    except Refused as exc:
        messages.error(request, exc.message)
    else:
        messages.success(request, f"Finished {enrollment.sequence.name} by hand.")
    return redirect("leads:detail", pk=enrollment.lead_id)


@login_required
def sequence_list(request: HttpRequest) -> HttpResponse:
    """Every sequence with its steps and how many people are in it now (three queries)."""
    show = request.GET.get("show", "")
    rows = Sequence.objects.prefetch_related("steps").annotate(active_enrollments=active_counts())
    if show != "all":
        rows = rows.filter(is_active=True)
    return render(request, "leads/sequences.html", {
        "sequences": rows.order_by("name"), "show_all": show == "all",
    })
