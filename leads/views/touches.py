"""Logging a touch by hand from a lead's or contact's page: the same service as
`POST /api/v1/activities/` (scoring, the SLA clock stopped by a follow-up, status moves),
with what it did said in words."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect
from django.views.decorators.http import require_POST

from leads import services
from leads.models import CallOutcome, Person, Status
from sdrcrm.errors import Refused

from .access import editable_contact, editable_lead
from .forms import TouchForm, first_error


@login_required
@require_POST
def lead_touch(request: HttpRequest, pk: int) -> HttpResponse:
    lead = editable_lead(request, pk)
    if lead is not None:
        log_touch(request, lead)
    return redirect("leads:detail", pk=pk)


@login_required
@require_POST
def contact_touch(request: HttpRequest, pk: int) -> HttpResponse:
    contact = editable_contact(request, pk)
    if contact is not None:
        log_touch(request, contact)
    return redirect("contacts:detail", pk=pk)


def log_touch(request: HttpRequest, person: Person) -> None:
    form = TouchForm(request.POST)
    if not form.is_valid():
        messages.error(request, f"Not logged. {first_error(form)}")
        return
    status, clock = person.status, getattr(person, "sla_due_at", None)
    try:
        activity = services.record_activity(person, form.cleaned_data["type"], details=form.details(),
                                            occurred_at=form.cleaned_data["occurred_at"], by=request.user)
    except Refused as exc:
        messages.error(request, f"Not logged. {exc.message}")
        return
    person.refresh_from_db()
    said = [f"{activity.get_type_display()} logged"
            + (f" ({CallOutcome(activity.details['outcome']).label.lower()})" if "outcome" in activity.details else "")
            + "."]
    if clock is not None and getattr(person, "sla_due_at", None) is None:
        said.append("The follow-up SLA clock stopped.")
    if person.status != status:
        said.append(f"Status is now {Status(person.status).label}.")
    messages.success(request, " ".join(said))
