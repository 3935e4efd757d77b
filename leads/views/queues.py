"""The manager's Team queues page (leads/queues.py has what it shows)."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render

from leads import queues
from sdrcrm.errors import Refused


@login_required
def team_queues_view(request: HttpRequest) -> HttpResponse:
    raw = request.GET.get("team") or ""
    if raw and not raw.isdecimal():  # what int() takes ("²" is a digit, not a decimal)
        messages.error(request, "Pick a team from the list; showing all your teams.")
        return redirect("leads:queues")
    try:
        board = queues.team_queues(request.user, int(raw) if raw else None)
    except Refused as exc:
        if exc.status == 403:
            raise PermissionDenied(exc.message) from None
        messages.error(request, exc.message)
        return redirect("leads:queues")
    return render(request, "leads/queues.html", {"board": board, "breaches_shown": queues.BREACHES_SHOWN})
