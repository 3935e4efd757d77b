"""The import pages (`/leads/imports/`): upload a CSV or XLSX of leads or contacts, tagged
with a campaign if it is a campaign's list, see how its columns
were read and change that, see every problem per row, then run it and watch its progress.
The rules are in leads/imports.py; the fields are checked as the API checks them."""

from __future__ import annotations

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.db.models import QuerySet
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.http import require_POST

from leads import imports
from leads.api.imports import lead_validator
from leads.models import Import, ImportRow
from sdrcrm.errors import Refused
from sdrcrm.models import User

PROBLEMS_SHOWN = 100
RECENT = 20


class UploadForm(forms.Form):
    file = forms.FileField(label="CSV or XLSX file", widget=forms.ClearableFileInput(attrs={"accept": ".csv,.xlsx"}))
    kind = forms.ChoiceField(choices=Import.Kind.choices, initial=Import.Kind.LEAD, required=False,
                             label="The file holds")
    campaign = forms.CharField(required=False, max_length=imports.CAMPAIGN_LENGTH, label="Campaign (optional)",
                               help_text="The event or list these people came from; each is put on it.")
    sheet = forms.CharField(required=False, max_length=100, label="Sheet (an XLSX with several)")


def _imports_of(user: User) -> QuerySet[Import]:
    try:
        imports.check_importer(user)
    except Refused as refused:
        raise PermissionDenied(refused.message) from None
    return imports.imports_of(user)


@login_required
def import_list(request: HttpRequest) -> HttpResponse:
    """The upload form and the user's latest imports (ops: everyone's). An upload is
    checked at once (a dry run) and shown on its own page."""
    recent = _imports_of(request.user).select_related("created_by").order_by("-id")[:RECENT]
    form = UploadForm()
    if request.method == "POST":
        form = UploadForm(request.POST, request.FILES)
        if form.is_valid():
            upload = form.cleaned_data["file"]
            content = upload.read(imports.MAX_BYTES + 1)
            sheet = form.cleaned_data["sheet"]
            try:
                table = imports.read_table(upload.name or "", content, sheet)
                columns = imports.columns_of(table.headers, saved=imports.saved_mapping(request.user))
            except Refused as refused:
                form.add_error(refused.field if refused.field in form.fields else "file", refused.message)
            else:
                kind = form.cleaned_data["kind"] or Import.Kind.LEAD
                try:
                    outcome = imports.check(table, columns, request.user, lead_validator(request, kind),
                                            file_name=upload.name or "", content=content, sheet=sheet, kind=kind,
                                            campaign=form.cleaned_data["campaign"])
                except Refused as refused:
                    form.add_error(refused.field if refused.field in form.fields else "file", refused.message)
                else:
                    return redirect("leads:import", pk=outcome.record.pk)
        return render(request, "leads/imports.html", {"form": form, "recent": recent}, status=400)
    return render(request, "leads/imports.html", {"form": form, "recent": recent})


@login_required
def import_detail(request: HttpRequest, pk: int) -> HttpResponse:
    record = get_object_or_404(_imports_of(request.user).select_related("created_by"), pk=pk)
    if request.headers.get("HX-Request") == "true":
        return render(request, "leads/_import_progress.html",
                      {"record": record, "cleared_note": imports.cleared_note(record)})
    problems = [] if record.rows_cleared_at else list(
        ImportRow.objects.filter(batch=record, result=ImportRow.Result.REJECTED)
        .order_by("line").values_list("line", "errors")[:PROBLEMS_SHOWN])
    return render(request, "leads/import_detail.html", {
        "record": record, "problems": problems, "cleared_note": imports.cleared_note(record),
        "fields": [("", "— (leave out)"), *[
            (name, name.replace("_", " ")) for name in imports.SYNONYMS]],
        "columns": [(header, record.mapping.get(header, ""), record.mapping.get(header, "").replace("_", " "))
                    for header in record.headers],
    })


@login_required
@require_POST
def import_remap(request: HttpRequest, pk: int) -> HttpResponse:
    """Check the rows again with the columns as the form maps them."""
    record = get_object_or_404(_imports_of(request.user), pk=pk)
    mapping = {header: request.POST.get(f"column-{n}", "") for n, header in enumerate(record.headers)}
    try:
        imports.recheck(record, mapping, request.user, lead_validator(request, record.kind))
    except Refused as refused:
        messages.error(request, refused.message)
    else:
        messages.success(request, "Checked again with your mapping.")
    return redirect("leads:import", pk=record.pk)


@login_required
@require_POST
def import_run(request: HttpRequest, pk: int) -> HttpResponse:
    record = get_object_or_404(_imports_of(request.user), pk=pk)
    try:
        record = imports.start(record)
    except Refused as refused:
        messages.error(request, refused.message)
    else:
        if record.state == Import.State.FINISHED:
            messages.success(request, f"Imported: {record.created} created, {record.updated} updated, "
                                      f"{record.unchanged} unchanged, {record.rejected} rejected.")
    return redirect("leads:import", pk=record.pk)
