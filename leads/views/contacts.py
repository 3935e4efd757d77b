"""Contact pages: the list with the SDR contact views of docs/rules.md §9 (My MQL contacts, My
Qualifying contacts), and a contact's page with its status, history and activities."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.db.models import Q, QuerySet
from django.http import Http404, HttpRequest, HttpResponse, QueryDict
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.views.decorators.http import require_POST
from rest_framework.exceptions import ValidationError

from leads import imports, lifecycle
from leads.models import TRANSITIONS, BulkAction, Contact, Import, Lead, Status
from leads.worklists import CONTACT_VIEWS, apply_view
from sdrcrm import exports
from sdrcrm.errors import Refused
from sdrcrm.models import User
from sdrcrm.pagination import Keyset

from . import edits
from .bulk_bar import bulk_context
from .forms import LeadFilterForm, StatusForm, TouchForm
from .timelines import timeline_context

KEYSET = Keyset(["created_at", "status_changed_at"], default="-created_at", page_size=50)
HISTORY_SHOWN = 50


def filtered_contacts(user: User, params: QueryDict) -> tuple[QuerySet[Contact], LeadFilterForm, str]:
    """The contact list's rows as its filters ask, within what the user may see; with the
    form and the view. The list page, its CSV export and its bulk actions start here."""
    form = LeadFilterForm(params)
    form.is_valid()
    data = form.cleaned_data
    contacts = Contact.objects.visible_to(user).select_related("owner", "account")
    view = data.get("view") or ""
    if view:
        try:
            contacts = apply_view(contacts, view, user, views=CONTACT_VIEWS)
        except Refused as exc:
            raise Http404(exc.message) from None
    if data.get("status"):
        contacts = contacts.filter(status=data["status"])
    if data.get("campaign"):
        contacts = contacts.filter(pk__in=imports.on_campaign(data["campaign"], Import.Kind.CONTACT))
    if data.get("q"):
        term = data["q"].strip()
        contacts = contacts.filter(Q(last_name__istartswith=term) | Q(first_name__istartswith=term)
                                   | Q(company__istartswith=term) | Q(email__istartswith=term))
    return contacts, form, view


def listed_order(view: str) -> str:
    """The list's order: a view works the oldest status change first (docs/rules.md §9), the
    plain list shows the newest."""
    return "status_changed_at" if view else "-created_at"


def contacts_as_listed(contacts: QuerySet[Contact], view: str) -> QuerySet[Contact]:
    """The rows in the list's order, ties by id (the CSV export and the bulk actions)."""
    ordering = listed_order(view)
    return contacts.order_by(ordering, "-id" if ordering.startswith("-") else "id")


@login_required
def contact_list(request: HttpRequest) -> HttpResponse:
    contacts, form, view = filtered_contacts(request.user, request.GET)
    data = form.cleaned_data
    try:
        rows, next_cursor = KEYSET.page(contacts, listed_order(view), data.get("cursor"), KEYSET.page_size)
    except ValidationError:
        messages.error(request, "That page link is out of date; showing the first page.")
        return redirect("contacts:list")
    params = request.GET.copy()
    params.pop("cursor", None)
    return render(request, "leads/contact_list.html", {
        "form": form, "contacts": rows, "next_cursor": next_cursor, "base_query": params.urlencode(),
        "views": [(key, label) for key, (label, _) in CONTACT_VIEWS.items()], "view": view,
        "view_label": CONTACT_VIEWS[view][0] if view else "",
        **bulk_context(BulkAction.Record.CONTACT, request.user),
    })


EXPORT_COLUMNS = [
    ("id", "id"), ("first_name", "first name"), ("last_name", "last name"), ("email", "email"), ("phone", "phone"),
    ("title", "title"), ("account__name", "account"), ("status", "status"), ("score", "score"),
    ("owner__username", "owner"), ("status_changed_at", "status changed at"), ("created_at", "created at"),
]


@login_required
def contact_export(request: HttpRequest) -> HttpResponse:
    """The contact list as CSV: the same filters, order and access as the page, every row."""
    contacts, _, view = filtered_contacts(request.user, request.GET)
    rows = (contacts_as_listed(contacts, view).values_list(*[name for name, _ in EXPORT_COLUMNS])
            .iterator(chunk_size=2000))
    return exports.csv_response(f"contacts-{timezone.now():%Y%m%d-%H%M}.csv",
                                [label for _, label in EXPORT_COLUMNS], rows)


@login_required
def contact_detail(request: HttpRequest, pk: int) -> HttpResponse:
    contact = get_object_or_404(
        Contact.objects.visible_to(request.user).select_related("owner", "queue", "account"), pk=pk)
    can_edit = Contact.objects.editable_by(request.user).filter(pk=pk).exists()
    return render(request, "leads/contact_detail.html", {
        "contact": contact,
        "can_edit": can_edit,
        "from_leads": Lead.objects.visible_to(request.user).filter(converted_to=contact).order_by("id"),
        "status_form": StatusForm(),
        "touch_form": TouchForm(),
        **timeline_context(request, contact),
        "edit_form": edits.edit_form(contact) if can_edit else None,
        "next_statuses": [(s, Status(s).label) for s in sorted(TRANSITIONS[contact.status])
                          if s != Status.QUALIFIED],
    })


@login_required
@require_POST
def contact_status(request: HttpRequest, pk: int) -> HttpResponse:
    contact = get_object_or_404(Contact.objects.visible_to(request.user), pk=pk)
    form = StatusForm(request.POST)
    if not Contact.objects.editable_by(request.user).filter(pk=pk).exists():
        messages.error(request, "You may read this contact but not change it.")
    elif not form.is_valid():
        messages.error(request, "Pick a status (and a reason where one is needed).")
    else:
        try:
            lifecycle.transition(contact, form.cleaned_data["status"], reason=form.cleaned_data["reason"],
                                by=request.user)
        except Refused as exc:
            messages.error(request, exc.message)
        else:
            messages.success(request, f"Status is now {contact.get_status_display()}.")
    return redirect("contacts:detail", pk=pk)
