"""Opportunity pages: the list, the opportunity page, and its stage and edit forms (docs/rules.md §9)."""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.db.models import Q, QuerySet
from django.http import HttpRequest, HttpResponse, QueryDict
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.views.decorators.http import require_POST
from rest_framework.exceptions import ValidationError

from leads.models import Account, BulkAction, Contact
from leads.views import touches
from leads.views.access import back_to_next
from leads.views.bulk_bar import bulk_context
from leads.views.forms import TouchForm
from opportunities import services
from opportunities.models import ClosedLostReason, Opportunity, Stage
from sdrcrm import company, exports
from sdrcrm.errors import Refused
from sdrcrm.models import User, active_sellers
from sdrcrm.pagination import Keyset

from .forms import NewOpportunityForm, OpportunityFilterForm, QualificationForm, StageForm

KEYSET = Keyset(["created_at"], default="-created_at", page_size=50)
PEOPLE_CAP = 50


def filtered_opportunities(user: User, params: QueryDict) -> tuple[QuerySet[Opportunity], OpportunityFilterForm]:
    """The list's rows as its filters ask (stage, mine, name, owner, SDR credited or their team, accepted,
    qualified or won in a period, account segment), within what the user may see; the list
    page, the board, the CSV export and the bulk actions all start here."""
    form = OpportunityFilterForm(params)
    form.is_valid()
    data = form.cleaned_data
    opportunities = Opportunity.objects.visible_to(user).select_related("account", "owner", "sdr")
    if data.get("stage"):
        opportunities = opportunities.filter(stage=data["stage"])
    if data.get("mine"):
        opportunities = opportunities.filter(Q(owner=user) | Q(sdr=user))
    if data.get("q"):
        opportunities = opportunities.filter(name__istartswith=data["q"].strip())
    for field, path in (("owner", "owner"), ("sdr", "sdr")):
        if data.get(field):
            opportunities = opportunities.filter(**{path: data[field]})
    if data.get("sdr_team"):
        opportunities = opportunities.filter(sdr__team__in=data["sdr_team"])
    for period, day in (("accepted", "sales_accepted_date"), ("qualified", "sales_qualified_date")):
        if data.get(f"{period}_from"):
            opportunities = opportunities.filter(**{f"{day}__gte": data[f"{period}_from"]})
        if data.get(f"{period}_to"):
            opportunities = opportunities.filter(**{f"{day}__lte": data[f"{period}_to"]})
    if data.get("won_from") or data.get("won_to"):
        opportunities = opportunities.filter(company.on_days("closed_at", data.get("won_from"), data.get("won_to")),
                                             stage=Stage.CLOSED_WON)
    if data.get("segment"):
        opportunities = opportunities.filter(account__segment=data["segment"])
    if data.get("credited"):
        opportunities = opportunities.filter(professional_services=False)
    return opportunities, form


@login_required
def opportunity_list(request: HttpRequest) -> HttpResponse:
    """What the user can see, newest first, 50 a page (keyset: a deep page costs what the first does)."""
    opportunities, form = filtered_opportunities(request.user, request.GET)
    data = form.cleaned_data
    try:
        rows, next_cursor = KEYSET.page(opportunities, KEYSET.default, data.get("cursor"), KEYSET.page_size)
    except ValidationError:
        messages.error(request, "That page link is out of date; showing the first page.")
        return redirect("opportunities:list")
    params = request.GET.copy()
    params.pop("cursor", None)
    return render(request, "opportunities/list.html", {
        "form": form, "opportunities": rows, "next_cursor": next_cursor, "base_query": params.urlencode(),
        **bulk_context(BulkAction.Record.OPPORTUNITY, request.user),
    })


EXPORT_COLUMNS = [
    ("id", "id"), ("name", "name"), ("account__name", "account"), ("stage", "stage"), ("owner__username", "owner"),
    ("sdr__username", "SDR credited"), ("iacv", "IACV (USD)"), ("amount", "amount (USD)"), ("source", "source"),
    ("close_date", "close date"), ("stage_changed_at", "stage changed at"), ("created_at", "created at"),
]


@login_required
def opportunity_export(request: HttpRequest) -> HttpResponse:
    """The opportunity list as CSV: the same filters and access as the page, every row, newest first."""
    opportunities, _ = filtered_opportunities(request.user, request.GET)
    rows = (opportunities.order_by("-created_at", "-id").values_list(*[name for name, _ in EXPORT_COLUMNS])
            .iterator(chunk_size=2000))
    return exports.csv_response(f"opportunities-{timezone.now():%Y%m%d-%H%M}.csv",
                                [label for _, label in EXPORT_COLUMNS], rows)


def back(request: HttpRequest, pk: int) -> HttpResponse:
    """Where a stage move returns: the page it was made from (the board), else the opportunity."""
    return back_to_next(request) or redirect("opportunities:detail", pk=pk)


@login_required
@require_POST
def opportunity_touch(request: HttpRequest, pk: int) -> HttpResponse:
    """A touch logged from the opportunity's page lands on its primary contact."""
    opportunity = editable_opportunity(request, pk)
    if opportunity is not None:
        try:
            contact = services.touched_contact(opportunity)
        except Refused as exc:
            messages.error(request, f"Not logged. {exc.message}")
        else:
            touches.log_touch(request, contact)
    return redirect("opportunities:detail", pk=pk)


@login_required
def seller_home(request: HttpRequest) -> HttpResponse:
    """A SAL's or AE's day (opportunities.services.seller_work)."""
    return render(request, "opportunities/home.html", {"work": services.seller_work(request.user)})


@login_required
def opportunity_board(request: HttpRequest) -> HttpResponse:
    """The open opportunities as a board, a column per stage with its count and IACV; the
    list's filters (mine, name) apply."""
    opportunities, form = filtered_opportunities(request.user, request.GET)
    return render(request, "opportunities/board.html", {
        "form": form, "columns": services.board(opportunities, request.user),
        "board_cards": services.BOARD_CARDS,
    })


@login_required
def opportunity_detail(request: HttpRequest, pk: int) -> HttpResponse:
    opportunity = get_object_or_404(
        Opportunity.objects.visible_to(request.user).select_related(
            "account", "owner", "sdr", "primary_contact", "reseller_contact", "reseller_account", "merged_into",
            "created_by"),
        pk=pk)
    can_edit = Opportunity.objects.editable_by(request.user).filter(pk=pk).exists()
    reopen_closed = opportunity.reopen_expired(timezone.now())
    return render(request, "opportunities/detail.html", {
        "opportunity": opportunity,
        "can_edit": can_edit,
        "touch_form": TouchForm(),
        "next_stages": [] if reopen_closed else [
            (stage, Stage(stage).label) for stage in services.offered_stages(opportunity, request.user)],
        "reopen_deadline": opportunity.reopen_deadline(),
        "reopen_closed": reopen_closed,
        "reasons": ClosedLostReason.choices,
        "qualification_form": QualificationForm(instance=opportunity),
        "history": opportunity.stage_changes.select_related("by").order_by("-at", "-id")[:100],
        "opportunity_tasks": opportunity.tasks.filter(done_at=None).select_related("owner")
                             .order_by("due_at", "id")[:20],
    })


def editable_opportunity(request: HttpRequest, pk: int) -> Opportunity | None:
    """The opportunity if the user may change it; 404 if they may not see it; None (with a
    message) if they may only read it."""
    opportunity = get_object_or_404(Opportunity.objects.visible_to(request.user), pk=pk)
    if not Opportunity.objects.editable_by(request.user).filter(pk=pk).exists():
        messages.error(request, "You may read this opportunity but not change it: from 1-Discovery on only its "
                                "owner and ops may.")
        return None
    return opportunity


@login_required
@require_POST
def opportunity_stage(request: HttpRequest, pk: int) -> HttpResponse:
    opportunity = editable_opportunity(request, pk)
    if opportunity is None:
        return back(request, pk)
    form = StageForm(request.POST)
    if not form.is_valid():
        messages.error(request, "Pick a stage (and, to close lost, a reason; a merged-into id is a whole number).")
        return back(request, pk)
    data = form.cleaned_data
    merged_into = None
    if data["merged_into"] is not None:
        merged_into = Opportunity.objects.visible_to(request.user).filter(pk=data["merged_into"]).first()
        if merged_into is None:
            messages.error(request, f"There is no opportunity {data['merged_into']} that you can see.")
            return back(request, pk)
    try:
        services.change_stage(opportunity, data["stage"], by=request.user,
                              closed_lost_reason=data["closed_lost_reason"], merged_into=merged_into,
                              closed_lost_details=data["closed_lost_details"],
                              closed_won_details=data["closed_won_details"])
    except Refused as exc:
        messages.error(request, exc.message)
    else:
        messages.success(request, f"Stage is now {opportunity.get_stage_display()}.")
    return back(request, pk)


@login_required
@require_POST
def opportunity_edit(request: HttpRequest, pk: int) -> HttpResponse:
    opportunity = editable_opportunity(request, pk)
    if opportunity is None:
        return redirect("opportunities:detail", pk=pk)
    form = QualificationForm(request.POST, instance=opportunity)
    if not form.is_valid():
        problems = "; ".join(f"{form.fields[field].label if field in form.fields else field}: {' '.join(errors)}"
                             for field, errors in form.errors.items())
        messages.error(request, f"Not saved. {problems}")
        return redirect("opportunities:detail", pk=pk)
    changes = {field: form.cleaned_data[field] for field in form.changed_data}
    try:
        services.update_opportunity(opportunity, changes, by=request.user)
    except Refused as exc:
        messages.error(request, exc.message)
    else:
        messages.success(request, "Saved." if changes else "Nothing changed.")
    return redirect("opportunities:detail", pk=pk)


def new_opportunity_form(account: Account, user: User, data: Any = None,
                         contacts: list[Contact] | None = None) -> NewOpportunityForm:
    """`contacts`: the account's contacts the page already shows (the select offers those)."""
    owners = active_sellers().order_by("username")
    if contacts is None:
        contacts = list(Contact.objects.visible_to(user).filter(account=account).order_by("last_name", "id")
                        .only("pk")[:PEOPLE_CAP])
    return NewOpportunityForm(data, owners=owners, contacts=Contact.objects.filter(
        pk__in=[contact.pk for contact in contacts]).order_by("last_name", "id"))


@login_required
@require_POST
def opportunity_new(request: HttpRequest, account_pk: int) -> HttpResponse:
    """A new opportunity on an account (docs/rules.md §4: it starts in 0-Pending Acceptance, or in
    00-Pre Opportunity for an SDR's own warm conversation)."""
    user: User = request.user
    account = get_object_or_404(Account.objects.visible_to(user), pk=account_pk)
    if not services.may_create_opportunity(user):
        messages.error(request, "Only sales development, their managers, ops and sellers create opportunities.")
        return redirect("accounts:detail", pk=account_pk)
    form = new_opportunity_form(account, user, request.POST)
    if not form.is_valid():
        messages.error(request, "Check the new opportunity: " + "; ".join(
            f"{field}: {' '.join(errors)}" for field, errors in form.errors.items()))
        return redirect("accounts:detail", pk=account_pk)
    data = {key: value for key, value in form.cleaned_data.items() if value not in (None, "")}
    data.setdefault("name", services.default_name(account))
    try:
        opportunity = services.create_opportunity(account, services.with_defaults(data, user), by=user)
    except Refused as exc:
        messages.error(request, exc.message)
        return redirect("accounts:detail", pk=account_pk)
    messages.success(request, f"Opened {opportunity.name} in {opportunity.get_stage_display()}.")
    return redirect("opportunities:detail", pk=opportunity.pk)
