"""Bulk actions from the lead, contact, account and opportunity lists (leads/bulk_actions.py
holds the rules): the rows ticked, or every record matching the list's filter (up to
BULK_ACTION_LIMIT), and the action's page, which shows each row's outcome and, while a
worker runs it, its progress."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.db.models import QuerySet
from django.http import HttpRequest, HttpResponse, QueryDict
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.http import require_POST

from leads import bulk_actions
from leads.models import BulkAction
from opportunities.views.opportunities import filtered_opportunities
from sdrcrm.errors import Refused
from sdrcrm.ids import as_id
from sdrcrm.models import User

from .accounts import accounts_matching
from .contacts import contacts_as_listed, filtered_contacts
from .leads import leads_matching, sorted_as_listed

Record = BulkAction.Record


def _leads(user: User, params: QueryDict) -> QuerySet:
    leads, form, _, _, default_sort = leads_matching(user, params)
    return sorted_as_listed(leads, form, default_sort)


def _contacts(user: User, params: QueryDict) -> QuerySet:
    contacts, _, view = filtered_contacts(user, params)
    return contacts_as_listed(contacts, view)


def _opportunities(user: User, params: QueryDict) -> QuerySet:
    return filtered_opportunities(user, params)[0].order_by("-created_at", "-id")


# Each list: its rows for a filter, in the list's order, and the list's page.
LISTS: dict[str, tuple[Callable[[User, QueryDict], QuerySet], str]] = {
    Record.LEAD: (_leads, "/leads/"),
    Record.CONTACT: (_contacts, "/contacts/"),
    Record.ACCOUNT: (accounts_matching, "/accounts/"),
    Record.OPPORTUNITY: (_opportunities, "/opportunities/"),
}


def _person(person: Any) -> tuple[str, str]:
    return person.full_name or person.email, person.email


# What the action's page shows of each row: the fields read, its name and second line, its page.
SHOWN: dict[str, tuple[tuple[str, ...], Callable[[Any], tuple[str, str]], str]] = {
    Record.LEAD: (("first_name", "last_name", "email"), _person, "leads:detail"),
    Record.CONTACT: (("first_name", "last_name", "email"), _person, "contacts:detail"),
    Record.ACCOUNT: (("name", "domain"), lambda account: (account.name, account.domain), "accounts:detail"),
    Record.OPPORTUNITY: (("name",), lambda opportunity: (opportunity.name, ""), "opportunities:detail"),
}


@login_required
@require_POST
def bulk_start(request: HttpRequest, record: str) -> HttpResponse:
    matching, list_url = LISTS[record]
    query = request.POST.get("filter", "")
    if request.POST.get("all_matching"):
        # One more than the limit, so that too many is told rather than cut.
        ids = list(matching(request.user, QueryDict(query)).values_list("pk", flat=True)
                   [:settings.BULK_ACTION_LIMIT + 1])
    else:
        ids = [pk for pk in map(as_id, request.POST.getlist(record)) if pk is not None]
    params = {"owner": as_id(request.POST.get("owner")), "status": request.POST.get("status"),
              "reason": request.POST.get("reason"), "sequence": as_id(request.POST.get("sequence"))}
    try:
        bulk = bulk_actions.start(record, request.POST.get("kind", ""), params, ids, request.user)
    except Refused as exc:
        messages.error(request, f"Nothing done. {exc.message}")
        return redirect(f"{list_url}?{query}")
    return redirect("bulk-detail", pk=bulk.pk)


@login_required
def bulk_detail(request: HttpRequest, pk: int) -> HttpResponse:
    user: User = request.user
    actions = BulkAction.objects.all() if user.is_ops else BulkAction.objects.filter(by=user)
    bulk = get_object_or_404(actions.select_related("by"), pk=pk)
    model = bulk_actions.RECORDS[Record(bulk.record)].model
    fields, names, detail_url = SHOWN[bulk.record]
    records = model.objects.only(*fields).in_bulk([row[0] for row in bulk.results])
    rows = [(record_id, names(records[record_id]) if record_id in records else None, outcome, message)
            for record_id, outcome, message in bulk.results]
    template = "leads/_bulk_progress.html" if request.headers.get("HX-Request") == "true" else "leads/bulk_detail.html"
    return render(request, template, {"bulk": bulk, "rows": rows, "list_url": LISTS[bulk.record][1],
                                      "detail_url": detail_url})
