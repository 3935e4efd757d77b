"""How a page gets the record it changes: 404 when the user may not see it, and a
message (no change) when they may read it only."""

from __future__ import annotations

from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect
from django.utils.http import url_has_allowed_host_and_scheme

from leads.models import Contact, Lead


def editable_lead(request: HttpRequest, pk: int) -> Lead | None:
    """The lead if the user may change it; 404 if they may not see it; None (with a
    message) if they may only read it."""
    lead = get_object_or_404(Lead.objects.visible_to(request.user), pk=pk)
    if not Lead.objects.editable_by(request.user).filter(pk=pk).exists():
        messages.error(request, "You may read this lead but not change it.")
        return None
    return lead


def editable_contact(request: HttpRequest, pk: int) -> Contact | None:
    """As editable_lead, for a contact."""
    contact = get_object_or_404(Contact.objects.visible_to(request.user), pk=pk)
    if not Contact.objects.editable_by(request.user).filter(pk=pk).exists():
        messages.error(request, "You may read this contact but not change it.")
        return None
    return contact


def back_to_next(request: HttpRequest) -> HttpResponse | None:
    """A redirect to the form's `next` when it is a page of this site (a form posted from
    another page than its record's: Today, the board), else None."""
    target = request.POST.get("next", "")
    if target and url_has_allowed_host_and_scheme(target, {request.get_host()}, request.is_secure()):
        return redirect(target)
    return None
