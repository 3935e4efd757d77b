"""Editing a lead's or contact's details from its page, through `update_person`: the
same checks as the API (email allowed and unique, names capitalised, the lead
re-classified and re-scored) and a field-history row per changed field."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect
from django.views.decorators.http import require_POST

from leads import people
from leads.models import Lead, Person
from sdrcrm.errors import Refused

from .access import editable_contact, editable_lead
from .forms import PersonEditForm, first_error


@login_required
@require_POST
def lead_edit(request: HttpRequest, pk: int) -> HttpResponse:
    lead = editable_lead(request, pk)
    if lead is not None:
        if lead.converted_to_id is not None:
            messages.error(request, "This lead was converted; edit its contact.")
        else:
            save_edit(request, lead)
    return redirect("leads:detail", pk=pk)


@login_required
@require_POST
def contact_edit(request: HttpRequest, pk: int) -> HttpResponse:
    contact = editable_contact(request, pk)
    if contact is not None:
        save_edit(request, contact)
    return redirect("contacts:detail", pk=pk)


def initial_of(person: Person) -> dict[str, object]:
    return {name: getattr(person, name) for name in PersonEditForm.base_fields}


def edit_form(person: Person, data: object = None) -> PersonEditForm:
    return PersonEditForm(data, initial=initial_of(person), email_required=isinstance(person, Lead))


def save_edit(request: HttpRequest, person: Person) -> None:
    form = edit_form(person, request.POST)
    if not form.is_valid():
        messages.error(request, f"Not saved. {first_error(form)}")
        return
    changed = {name: form.cleaned_data[name] for name in form.changed_data}
    if not changed:
        messages.info(request, "Nothing changed.")
        return
    try:
        people.update_person(person, changed, by=request.user)
    except Refused as exc:
        messages.error(request, f"Not saved. {exc.message}")
        return
    names = ", ".join(form.fields[name].label or name.replace("_", " ") for name in changed)
    messages.success(request, f"Saved: {names.lower()}.")
