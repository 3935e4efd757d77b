from __future__ import annotations

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.db.models import Q, QuerySet
from django.http import Http404, HttpRequest, HttpResponse, QueryDict
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.views.decorators.http import require_POST
from rest_framework.exceptions import ValidationError

from leads import imports, lifecycle
from leads import spam as lead_spam
from leads import today as work
from leads.models import TRANSITIONS, BulkAction, Import, Lead, Status
from leads.worklists import LEAD_VIEWS, apply_view
from opportunities.views import iqms as iqm_views
from scoring import services as scoring
from sdrcrm import exports
from sdrcrm.errors import Refused
from sdrcrm.models import User
from sdrcrm.pagination import Keyset

from . import conversion as conversion_views
from . import edits
from . import merge as merge_views
from .access import editable_lead
from .bulk_bar import bulk_context
from .forms import LeadFilterForm, StatusForm, TaskForm, TouchForm
from .sequences import lead_context as sequence_context
from .timelines import timeline_context

KEYSET = Keyset(["created_at", "updated_at", "status_changed_at", "score", "last_name"],
                default="-created_at", page_size=50)
SORTS = [("-created_at", "Newest"), ("status_changed_at", "Oldest status change"),
         ("-score", "Highest score"), ("last_name", "Last name")]


def filtered_leads(request: HttpRequest) -> tuple[QuerySet[Lead], LeadFilterForm, User | None, str, str]:
    """The lead list's rows as its filters ask; see leads_matching."""
    return leads_matching(request.user, request.GET)


def leads_matching(user: User, params: QueryDict) -> tuple[QuerySet[Lead], LeadFilterForm, User | None, str, str]:
    """The lead list's rows as `params` (its filters: view, owner, status, campaign, search) ask,
    within what the user may see; with the form, the owner looked at, the view and its
    default sort. The list page, its CSV export and its bulk actions all start here."""
    form = LeadFilterForm(params)
    form.is_valid()
    data = form.cleaned_data
    leads = Lead.objects.visible_to(user).select_related("owner", "queue")
    owner = None
    if data.get("owner") and (user.is_manager or user.is_ops):
        owner = User.objects.filter(pk=data["owner"]).first()
    view = data.get("view") or ""
    default_sort = "-created_at"
    if view:
        try:
            leads = apply_view(leads, view, user, owner=owner)
        except Refused as exc:
            raise Http404(exc.message) from None
        default_sort = "status_changed_at"  # views work the oldest first
    elif owner is not None:
        leads = leads.filter(owner=owner)
    if data.get("status"):
        leads = leads.filter(status=data["status"])
    if data.get("campaign"):
        leads = leads.filter(pk__in=imports.on_campaign(data["campaign"], Import.Kind.LEAD))
    if data.get("q"):
        term = data["q"].strip()
        leads = leads.filter(Q(last_name__istartswith=term) | Q(first_name__istartswith=term)
                             | Q(company__istartswith=term) | Q(email__startswith=term.lower()))
    return leads, form, owner, view, default_sort


@login_required
def lead_list(request: HttpRequest) -> HttpResponse:
    leads, form, owner, view, default_sort = filtered_leads(request)
    if view == "my_qualifying":
        leads = work.with_next_steps(leads)
    data = form.cleaned_data
    user: User = request.user
    try:
        ordering = KEYSET.ordering(data.get("ordering") or default_sort)
        rows, next_cursor = KEYSET.page(leads, ordering, data.get("cursor"), KEYSET.page_size)
    except ValidationError:
        messages.error(request, "That page link is out of date; showing the first page.")
        return redirect("leads:list")
    params = request.GET.copy()
    params.pop("cursor", None)
    team = User.objects.filter(team__in=user.managed_team_ids()).order_by("username") if user.is_manager else (
        User.objects.filter(role__in=["sdr", "bdr"]).order_by("username") if user.is_ops else User.objects.none())
    return render(request, "leads/list.html", {
        "form": form, "leads": rows, "views": [(key, label) for key, (label, _) in LEAD_VIEWS.items()],
        "view": view, "next_cursor": next_cursor, "base_query": params.urlencode(), "sorts": SORTS,
        "ordering": ordering, "statuses": Status.choices, "team": team, "owner": owner,
        "flag_next_steps": view == "my_qualifying",
        "view_label": LEAD_VIEWS[view][0] if view else "",
        **bulk_context(BulkAction.Record.LEAD, user),
    })


EXPORT_COLUMNS = [
    ("id", "id"), ("first_name", "first name"), ("last_name", "last name"), ("email", "email"), ("phone", "phone"),
    ("title", "title"), ("company", "company"), ("country", "country"), ("status", "status"), ("score", "score"),
    ("owner__username", "owner"), ("queue__name", "queue"), ("initial_source", "initial source"),
    ("mql_at", "MQL at"), ("status_changed_at", "status changed at"), ("created_at", "created at"),
]


def sorted_as_listed(leads: QuerySet[Lead], form: LeadFilterForm, default_sort: str) -> QuerySet[Lead]:
    """The rows in the list's order (an unknown sort: the default one)."""
    try:
        ordering = KEYSET.ordering(form.cleaned_data.get("ordering") or default_sort)
    except ValidationError:
        ordering = default_sort
    return leads.order_by(ordering, "-id" if ordering.startswith("-") else "id")


@login_required
def lead_export(request: HttpRequest) -> HttpResponse:
    """The lead list as CSV: the same filters, sort and access as the page, every row."""
    leads, form, _, _, default_sort = filtered_leads(request)
    rows = (sorted_as_listed(leads, form, default_sort)
            .values_list(*[name for name, _ in EXPORT_COLUMNS]).iterator(chunk_size=2000))
    return exports.csv_response(f"leads-{timezone.now():%Y%m%d-%H%M}.csv", [label for _, label in EXPORT_COLUMNS],
                                rows)


@login_required
def lead_detail(request: HttpRequest, pk: int) -> HttpResponse:
    lead = get_object_or_404(
        Lead.objects.visible_to(request.user).select_related("owner", "queue", "account", "spam_marked_by"), pk=pk)
    converted = lead.converted_to_id is not None
    # A converted lead is the contact's history now: read only, whoever is looking.
    can_edit = not converted and Lead.objects.editable_by(request.user).filter(pk=pk).exists()
    next_statuses = [(s, Status(s).label) for s in sorted(TRANSITIONS[lead.status]) if s != Status.QUALIFIED]
    return render(request, "leads/detail.html", {
        "lead": lead,
        "converted": converted,
        "can_edit": can_edit,
        "status_form": StatusForm(),
        "touch_form": TouchForm(),
        **timeline_context(request, lead),
        "edit_form": edits.edit_form(lead) if can_edit else None,
        "lead_tasks": lead.tasks.filter(done_at=None).select_related("owner").order_by("due_at", "id")[:20],
        "task_form": TaskForm(),
        "next_statuses": next_statuses,
        "score": scoring.explain(lead, ledger=False),
        "routing_threshold": settings.ROUTING_THRESHOLD,
        "routing": lead.routing_decisions.select_related("owner", "pool", "queue", "ruleset").order_by("-at")[:5],
        "can_mark_spam": lead_spam.may_mark_spam(request.user, lead, editable=can_edit),
        **sequence_context(lead, can_edit),
        **conversion_views.lead_context(lead, request.user, can_edit),
        **merge_views.lead_context(lead, request.user, can_edit),
        **iqm_views.lead_context(lead, request.user, can_edit),
    })


@login_required
@require_POST
def lead_status(request: HttpRequest, pk: int) -> HttpResponse:
    lead = editable_lead(request, pk)
    if lead is None:
        return redirect("leads:detail", pk=pk)
    form = StatusForm(request.POST)
    if not form.is_valid():
        messages.error(request, "Pick a status (and a reason where one is needed).")
        return redirect("leads:detail", pk=pk)
    try:
        lifecycle.transition(lead, form.cleaned_data["status"], reason=form.cleaned_data["reason"], by=request.user)
    except Refused as exc:
        messages.error(request, exc.message)
    else:
        messages.success(request, f"Status is now {lead.get_status_display()}.")
    return redirect("leads:detail", pk=pk)


@login_required
@require_POST
def lead_spam_mark(request: HttpRequest, pk: int) -> HttpResponse:
    lead = get_object_or_404(Lead.objects.visible_to(request.user), pk=pk)
    try:
        lead_spam.mark_spam(lead, by=request.user, block_domain=request.POST.get("block_domain") == "on")
    except Refused as exc:
        messages.error(request, exc.message)
    else:
        blocked = f"; {lead.email_domain} will be blocked" if lead.spam_block_domain else ""
        messages.success(request, f"Marked as spam: deleted for good tonight{blocked}.")
    return redirect("leads:detail", pk=pk)
