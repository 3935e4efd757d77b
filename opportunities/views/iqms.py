"""IQM pages: the lead page's IQM card (its meetings, "Book IQM", a disposition form per
meeting) and the two POST views behind it. The rules are in opportunities/iqms.py."""

from __future__ import annotations

from typing import Any

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.db.models import QuerySet
from django.http import HttpRequest, HttpResponse, QueryDict
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.http import require_POST
from rest_framework.exceptions import ValidationError

from leads.models import Lead
from leads.views.access import back_to_next
from leads.views.forms import first_error
from opportunities import iqms
from opportunities.dashboards import HELD
from opportunities.models import IQM, ActivitySource, Disposition, Opportunity
from sdrcrm import company
from sdrcrm.errors import Refused
from sdrcrm.ids import MAX_ID
from sdrcrm.local_time import shown
from sdrcrm.models import SELLING_ROLES, Team, User, active_prospectors
from sdrcrm.pagination import Keyset

MAX_LISTED = 20
MAX_CHOICES = 200


class BookForm(forms.Form):
    start = forms.DateTimeField()
    end = forms.DateTimeField()
    location = forms.CharField(required=False, max_length=255)
    activity_source = forms.ChoiceField(choices=ActivitySource.choices, label="Activity source")
    description = forms.CharField(required=False, max_length=20_000, label="Notes")
    sdr = forms.IntegerField(required=False, min_value=1, max_value=MAX_ID, label="Assigned to")


class DispositionForm(forms.Form):
    disposition = forms.ChoiceField(choices=Disposition.choices)
    # Always posted by the card's select (preselected with the current one); blank unlinks.
    opportunity = forms.IntegerField(required=False, min_value=1, max_value=MAX_ID)


def assignable_sdrs(user: User) -> list[User]:
    """Whom a manager, ops or a seller may assign an IQM to (an SDR or BDR books for
    themselves unless the API says otherwise)."""
    sdrs = active_prospectors()
    if user.is_manager:
        sdrs = sdrs.filter(team__in=user.managed_team_ids())
    elif not (user.is_ops or user.role in SELLING_ROLES):
        return []
    return list(sdrs.order_by("username")[:MAX_CHOICES])


def lead_context(lead: Lead, user: User, can_edit: bool) -> dict[str, Any]:
    """What the lead page shows of IQMs: the ones the user may see (at most four queries)."""
    listed = list(IQM.objects.visible_to(user).filter(lead=lead).select_related("sdr", "opportunity")
                  .order_by("-start", "-id")[:MAX_LISTED])
    # Every IQM listed takes a disposition: IQMs are written by whoever reads them
    # (IQMQuerySet.editable_by is visible_to).
    # Opportunities the disposition form may link: the lead's account's, and any already linked.
    opportunities: dict[int, Opportunity] = {}
    if lead.account_id and listed:
        account_opps = Opportunity.objects.visible_to(user).filter(account_id=lead.account_id)
        opportunities = {o.pk: o for o in account_opps.order_by("-created_at", "-id")[:MAX_CHOICES]}
    for iqm in listed:
        if iqm.opportunity is not None:
            opportunities.setdefault(iqm.opportunity.pk, iqm.opportunity)
    can_book = can_edit and lead.converted_to_id is None
    return {
        "iqms": listed,
        "iqm_can_book": can_book,
        "iqm_sdrs": assignable_sdrs(user) if can_book and not user.is_prospector else [],
        "iqm_sources": ActivitySource.choices,
        "iqm_dispositions": Disposition.choices,
        "iqm_opportunities": list(opportunities.values()),
    }


def _back(request: HttpRequest, iqm: IQM | None = None, lead_id: int | None = None) -> HttpResponse:
    """To `next` when it is a page of this site (another page may host the forms), else the lead page."""
    if (back := back_to_next(request)) is not None:
        return back
    lead_id = lead_id or (iqm.lead_id if iqm else None)
    return redirect("leads:detail", pk=lead_id) if lead_id else redirect("leads:list")


@login_required
@require_POST
def lead_book_iqm(request: HttpRequest, pk: int) -> HttpResponse:
    user: User = request.user
    lead = get_object_or_404(Lead.objects.visible_to(user).select_related("account"), pk=pk)
    if not Lead.objects.editable_by(user).filter(pk=pk).exists():
        messages.error(request, "You may read this lead but not book an IQM with them.")
        return _back(request, lead_id=pk)
    form = BookForm(request.POST)
    if not form.is_valid():
        messages.error(request, first_error(form))
        return _back(request, lead_id=pk)
    data = dict(form.cleaned_data)
    sdr_id = data.pop("sdr")
    if sdr_id is not None:
        data["sdr"] = User.objects.filter(pk=sdr_id).first()
        if data["sdr"] is None:
            messages.error(request, "Pick the SDR or BDR the IQM is assigned to.")
            return _back(request, lead_id=pk)
    try:
        iqm = iqms.book_iqm(lead, data, by=user)
    except Refused as exc:
        messages.error(request, exc.message)
    else:
        messages.success(request, f"Booked {iqm.subject} on {shown(iqm.start)} with "
                                  f"{iqm.sdr.get_full_name() or iqm.sdr.username}.")
    return _back(request, lead_id=pk)


@login_required
@require_POST
def iqm_disposition(request: HttpRequest, pk: int) -> HttpResponse:
    user: User = request.user
    iqm = get_object_or_404(IQM.objects.editable_by(user), pk=pk)  # the same scope as visible_to
    form = DispositionForm(request.POST)
    if not form.is_valid():
        messages.error(request, first_error(form))
        return _back(request, iqm)
    opportunity = None
    if form.cleaned_data["opportunity"] is not None:
        opportunity = Opportunity.objects.visible_to(user).filter(pk=form.cleaned_data["opportunity"]).first()
        if opportunity is None:
            messages.error(request, "That opportunity is not one you can see.")
            return _back(request, iqm)
    try:
        iqm = iqms.update_iqm(iqm, {"disposition": form.cleaned_data["disposition"], "opportunity": opportunity})
    except Refused as exc:
        messages.error(request, exc.message)
    else:
        messages.success(request, f"{iqm.subject}: {iqm.get_disposition_display()}.")
    return _back(request, iqm)


# --- The IQM list (`/opportunities/iqms/`): what the SAO dashboard's IQM figures link to --


class IQMFilterForm(forms.Form):
    """The list's filters: the SDR the meetings are assigned to, the days they started
    (in the company's calendar), and only the meetings held (qualified or SAO)."""

    sdr = forms.ModelChoiceField(queryset=active_prospectors().order_by("username"), required=False,
                                 label="SDR", empty_label="Any SDR")
    sdr_team = forms.ModelMultipleChoiceField(queryset=Team.objects.order_by("name"), required=False, label="Team",
                                              widget=forms.SelectMultiple(attrs={"size": 3}))
    start_from = forms.DateField(required=False, label="From")
    start_to = forms.DateField(required=False, label="To")
    held = forms.BooleanField(required=False, label="Held only (qualified meeting or SAO)")
    cursor = forms.CharField(required=False)

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["sdr"].label_from_instance = lambda user: user.get_full_name() or user.username

    def clean(self) -> dict[str, Any]:
        data = super().clean()
        if data.get("start_from") and data.get("start_to") and data["start_to"] < data["start_from"]:
            self.add_error("start_to", "The period ends before it starts.")
        return data


IQM_KEYSET = Keyset(["start"], default="-start", page_size=50)


def filtered_iqms(user: User, params: QueryDict) -> tuple[QuerySet[IQM], IQMFilterForm]:
    """The IQMs the user may see, as the list's filters ask."""
    form = IQMFilterForm(params)
    form.is_valid()
    data = form.cleaned_data
    meetings = IQM.objects.visible_to(user).select_related("lead", "contact", "sdr", "opportunity")
    if data.get("sdr"):
        meetings = meetings.filter(sdr=data["sdr"])
    if data.get("sdr_team"):
        meetings = meetings.filter(sdr__team__in=data["sdr_team"])
    meetings = meetings.filter(company.on_days("start", data.get("start_from"), data.get("start_to")))
    if data.get("held"):
        meetings = meetings.filter(disposition__in=HELD)
    return meetings, form


@login_required
def iqm_list(request: HttpRequest) -> HttpResponse:
    """The meetings the user may see, latest first, 50 a page (keyset)."""
    meetings, form = filtered_iqms(request.user, request.GET)
    try:
        rows, next_cursor = IQM_KEYSET.page(meetings, IQM_KEYSET.default, form.cleaned_data.get("cursor"),
                                            IQM_KEYSET.page_size)
    except ValidationError:
        messages.error(request, "That page link is out of date; showing the first page.")
        return redirect("opportunities:iqms")
    params = request.GET.copy()
    params.pop("cursor", None)
    return render(request, "opportunities/iqms.html", {
        "form": form, "meetings": rows, "next_cursor": next_cursor, "base_query": params.urlencode()})
