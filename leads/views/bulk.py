"""Bulk actions from the lead list (leads/bulk_actions.py holds the rules): the rows ticked,
or every lead matching the list's filter (up to BULK_ACTION_LIMIT), and the action's page,
which shows each row's outcome and, while a worker runs it, its progress."""

from __future__ import annotations

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse, QueryDict
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.http import require_POST

from leads import bulk_actions
from leads.models import BulkAction, Lead
from sdrcrm.errors import Refused
from sdrcrm.ids import as_id
from sdrcrm.models import User

from .leads import leads_matching, sorted_as_listed


@login_required
@require_POST
def lead_bulk_start(request: HttpRequest) -> HttpResponse:
    back = f"/leads/?{request.POST.get('filter', '')}"
    if request.POST.get("all_matching"):
        ids = _matching_ids(request, request.POST.get("filter", ""))
    else:
        ids = [pk for pk in map(as_id, request.POST.getlist("lead")) if pk is not None]
    params = {"owner": as_id(request.POST.get("owner")), "status": request.POST.get("status"),
              "reason": request.POST.get("reason"), "sequence": as_id(request.POST.get("sequence"))}
    try:
        bulk = bulk_actions.start(request.POST.get("kind", ""), params, ids, request.user)
    except Refused as exc:
        messages.error(request, f"Nothing done. {exc.message}")
        return redirect(back)
    return redirect("leads:bulk-detail", pk=bulk.pk)


def _matching_ids(request: HttpRequest, query: str) -> list[int]:
    """The ids of the leads the list shows for `query` (its filter), in its order; one
    more than the limit, so that too many is told rather than cut."""
    leads, form, _, _, default_sort = leads_matching(request.user, QueryDict(query))
    return list(sorted_as_listed(leads, form, default_sort).values_list("pk", flat=True)
                [:settings.BULK_ACTION_LIMIT + 1])


@login_required
def lead_bulk_detail(request: HttpRequest, pk: int) -> HttpResponse:
    user: User = request.user
    actions = BulkAction.objects.all() if user.is_ops else BulkAction.objects.filter(by=user)
    bulk = get_object_or_404(actions.select_related("by"), pk=pk)
    leads = Lead.objects.only("first_name", "last_name", "email").in_bulk([row[0] for row in bulk.results])
    rows = [(lead_id, leads.get(lead_id), outcome, message) for lead_id, outcome, message in bulk.results]
    template = ("leads/_bulk_progress.html" if request.headers.get("HX-Request") == "true"
                else "leads/bulk_detail.html")
    return render(request, template, {"bulk": bulk, "rows": rows})
