"""The pages of recoverable deletes (docs/rules.md §11.2, leads/trash.py): the Delete button of
a lead, contact, account or opportunity page, and ops' Recently deleted page with its
Restore buttons."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.http import require_POST
from rest_framework.exceptions import ValidationError

from leads import trash
from sdrcrm.errors import Refused

LISTS = {"lead": "leads:list", "contact": "contacts:list", "account": "accounts:list",
         "opportunity": "opportunities:list"}
DETAILS = {"lead": "leads:detail", "contact": "contacts:detail", "account": "accounts:detail",
           "opportunity": "opportunities:detail"}


@login_required
@require_POST
def record_delete(request: HttpRequest, kind: str, pk: int) -> HttpResponse:
    """The Delete button: 404 for a record the user cannot see; a refusal (not allowed,
    or others still need it) and a form without its confirmation come back to the record's
    page with the reason."""
    found = trash.kind_of(kind)
    record = get_object_or_404(found.model.objects.visible_to(request.user), pk=pk)  # type: ignore[attr-defined]
    if request.POST.get("confirm") != "yes":
        messages.error(request, f"Tick the box to confirm that you mean to delete this {found.label}.")
        return redirect(DETAILS[kind], pk=pk)
    try:
        trash.delete_record(record, by=request.user)
    except Refused as refused:
        messages.error(request, refused.message)
        return redirect(DETAILS[kind], pk=pk)
    messages.success(request, f"Deleted {found.label} {record}. Sales-Dev Ops can restore it from Recently deleted "
                              f"for {trash.retention().days} days.")
    return redirect(LISTS[kind])


@login_required
def recently_deleted(request: HttpRequest) -> HttpResponse:
    """Ops: the deleted records of a kind, newest deletion first, with who deleted each, when,
    and the days left to restore it."""
    if not trash.may_restore(request.user):
        raise PermissionDenied("Recently deleted is for Sales-Dev Ops.")
    try:
        found = trash.kind_of(request.GET.get("kind") or "lead")
        rows, next_cursor = trash.KEYSET.page(trash.deleted_of(found), trash.KEYSET.default,
                                              request.GET.get("cursor"), trash.KEYSET.page_size)
    except (Refused, ValidationError):
        messages.error(request, "That link names no kind of record or is out of date; showing deleted leads.")
        return redirect("recently-deleted")
    now = timezone.now()
    return render(request, "recently_deleted.html", {
        "kind": found, "kinds": [(key, model._meta.verbose_name_plural) for key, model in trash.KINDS.items()],
        "rows": [(row, trash.days_left(row, now)) for row in rows],
        "next_cursor": next_cursor, "retention_days": trash.retention().days,
    })


@login_required
@require_POST
def record_restore(request: HttpRequest, kind: str, pk: int) -> HttpResponse:
    if not trash.may_restore(request.user):
        raise PermissionDenied("Only Sales-Dev Ops may restore deleted records.")
    try:
        found = trash.kind_of(kind)
        record = trash.restore_record(found, pk, by=request.user)
    except Refused as refused:
        if refused.status == 404:
            raise Http404(refused.message) from None
        messages.error(request, refused.message)
        return redirect(f"{reverse('recently-deleted')}?kind={kind}")
    messages.success(request, f"Restored {found.label} {record}.")
    return redirect(f"{reverse('recently-deleted')}?kind={kind}")
