"""The ops page of erasures on request (leads/erasure.py): erase a person by email, see who
asked and when, and lift an erasure's block on the email."""

from __future__ import annotations

from django import forms
from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.http import require_POST

from leads import erasure
from leads.models import Erasure
from sdrcrm.errors import Refused
from sdrcrm.pagination import Keyset
from sdrcrm.views import ops_only

KEYSET = Keyset(["erased_at"], default="-erased_at", page_size=50)
OPS_ONLY = "Only Sales-Dev Ops may erase people."


class ErasureForm(forms.Form):
    email = forms.EmailField(label="Email of the person")
    requested_by = forms.CharField(max_length=200, label="Who asked",
                                   help_text="The person, or who on their behalf (and how).")
    requested_on = forms.DateField(required=False, label="Asked on", widget=forms.DateInput(attrs={"type": "date"}))
    confirm = forms.BooleanField(label="I understand this cannot be undone")


@ops_only(OPS_ONLY)
def erasure_list(request: HttpRequest) -> HttpResponse:
    form = ErasureForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            record = erasure.erase_person(data["email"], data["requested_by"], by=request.user,
                                          requested_on=data["requested_on"])
        except Refused as exc:
            form.add_error("email" if exc.field == "email" else None, exc.message)
        else:
            messages.success(request, f"Erased {record.leads} lead(s) and {record.contacts} contact(s); the email is "
                                      "blocked from ingest and imports.")
            return redirect("leads:erasures")
    try:
        rows, next_cursor = KEYSET.page(Erasure.objects.select_related("erased_by", "lifted_by"), KEYSET.default,
                                        request.GET.get("cursor"), KEYSET.page_size)
    except ValidationError:
        return redirect("leads:erasures")
    return render(request, "leads/erasures.html", {"form": form, "erasures": rows, "next_cursor": next_cursor,
                                                   "nav_section": "erasures"})


@ops_only(OPS_ONLY)
@require_POST
def erasure_lift(request: HttpRequest, pk: int) -> HttpResponse:
    record = get_object_or_404(Erasure, pk=pk)
    try:
        erasure.lift_block(record, by=request.user)
    except Refused as exc:
        messages.error(request, exc.message)
    else:
        messages.success(request, "The block is lifted: the email may be ingested and imported again.")
    return redirect("leads:erasures")
