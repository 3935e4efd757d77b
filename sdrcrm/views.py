from __future__ import annotations

import sys
from collections.abc import Callable
from functools import wraps
from typing import Any

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.db import InterfaceError, connection
from django.db import OperationalError as DatabaseOperationalError
from django.http import Http404, HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views import defaults
from django.views.decorators.http import require_GET, require_POST
from django.views.defaults import page_not_found
from rest_framework.exceptions import ValidationError

from . import jobs, search
from . import notifications as inbox
from .celery import app as celery_app
from .errors import Refused
from .models import JobRun, Role
from .pagination import Keyset

View = Callable[..., HttpResponse]
NOTIFICATIONS_KEYSET = Keyset(["created_at"], default="-created_at", page_size=50)
JOB_RUNS_KEYSET = Keyset(["started_at"], default="-started_at", page_size=50)


@require_GET
def healthz(request: HttpRequest) -> JsonResponse:
    """Database and broker both answer: 200; otherwise 503 naming what is down."""
    checks = {}
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
        checks["database"] = "ok"
    except Exception as exc:
        checks["database"] = f"error: {exc.__class__.__name__}"
    try:
        with celery_app.connection_for_write() as conn:
            conn.ensure_connection(max_retries=1, timeout=2)
        checks["broker"] = "ok"
    except Exception as exc:
        checks["broker"] = f"error: {exc.__class__.__name__}"
    healthy = all(value == "ok" for value in checks.values())
    checks["broker_url"] = settings.CELERY_BROKER_URL.split("://")[0]
    return JsonResponse({"status": "ok" if healthy else "down", **checks}, status=200 if healthy else 503)


def ops_only(refusal: str) -> Callable[[View], View]:
    """A page for Sales-Dev Ops: others are sent to log in, or refused with `refusal` (403)."""
    def decorate(view: View) -> View:
        @login_required
        @wraps(view)
        def wrapped(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
            if not request.user.is_ops:
                raise PermissionDenied(refusal)
            return view(request, *args, **kwargs)
        return wrapped
    return decorate


def home(request: HttpRequest) -> HttpResponse:
    """Each role's day starts on its own page: ops on the jobs, managers on the team
    queues, sellers (SAL, AE) on their opportunities, SDRs and BDRs on their Today page."""
    user = request.user
    if not user.is_authenticated:
        return redirect("leads:list")  # the login page, then back here
    if user.is_ops:
        return redirect("job-runs")
    if user.is_manager:
        return redirect("leads:queues")
    if user.role in (Role.SAL, Role.AE):
        return redirect("opportunities:home")
    return redirect("leads:today")


@login_required
@require_GET
def search_page(request: HttpRequest) -> HttpResponse:
    """The header's search: every record the user may see that matches every word."""
    term = request.GET.get("q", "")[:100]
    results, refusal = None, ""
    if term.strip():
        try:
            results = search.search(request.user, term)
        except Refused as exc:
            refusal = exc.message
    return render(request, "search.html", {"term": term, "results": results, "refusal": refusal})


@login_required
@require_GET
def lookup(request: HttpRequest, kind: str) -> HttpResponse:
    """A picker's choices as the user types (htmx swaps them under the field): the records
    of `kind` they may pick that match every word, each a button that fills the field."""
    if kind not in search.LOOKUPS:
        raise Http404("No such picker.")
    # The box sends itself as <field>_search (a form may hold several pickers).
    term = next((value for key, value in request.GET.items() if key == "q" or key.endswith("_search")), "")[:100]
    found, refusal = [], ""
    if term.strip():
        try:
            found = search.lookup(request.user, kind, term)
        except Refused as exc:
            refusal = exc.message
    return render(request, "_picker_choices.html", {"kind": kind, "found": found, "refusal": refusal,
                                                     "term": term.strip()})


@login_required
def notification_list(request: HttpRequest) -> HttpResponse:
    """Your notifications (or, for managers and ops, a channel's), newest first, 50 a page."""
    channel = request.GET.get("channel", "")
    reader = inbox.may_read_channels(request.user)
    try:
        feed = inbox.channel_feed(request.user, channel) if channel else inbox.inbox(request.user)
        rows, next_cursor = NOTIFICATIONS_KEYSET.page(feed, "-created_at", request.GET.get("cursor"),
                                                      NOTIFICATIONS_KEYSET.page_size)
    except (ValidationError, Refused):
        messages.error(request, "That link is out of date or names no channel; showing your notifications.")
        return redirect("notifications")
    return render(request, "notifications.html", {
        "notifications": rows, "next_cursor": next_cursor, "channel": channel,
        "channels": list(inbox.CHANNELS.items()) if reader else [],
    })


@login_required
@require_POST
def notifications_read_all(request: HttpRequest) -> HttpResponse:
    marked = inbox.mark_all_read(request.user)
    messages.success(request, f"Marked {marked} notification{'' if marked == 1 else 's'} as read.")
    return redirect("notifications")


@login_required
@require_POST
def job_run_now(request: HttpRequest, name: str) -> HttpResponse:
    """Ops: run a job now (sdrcrm.jobs.run_now); back to the jobs page, where it shows."""
    try:
        jobs.run_now(name, request.user)
    except Refused as exc:
        if exc.status == 403:
            raise PermissionDenied(exc.message) from None
        raise Http404(exc.message) from None
    messages.success(request, f"{name} is running now; its run shows below with your name.")
    return redirect(f"{reverse('job-runs')}?name={name}")


@login_required
def job_runs(request: HttpRequest) -> HttpResponse:
    """Managers and ops: every periodic job's latest run, then the runs, newest first,
    by job and state."""
    if not (request.user.is_manager or request.user.is_ops):
        raise PermissionDenied("Job runs are for SDR managers and Sales-Dev Ops.")
    name, state = request.GET.get("name", ""), request.GET.get("state", "")
    if (name and name not in jobs.JOBS) or (state and state not in JobRun.State.values):
        messages.error(request, "No such job or state; showing every run.")
        return redirect("job-runs")
    runs = JobRun.objects.select_related("started_by")
    if name:
        runs = runs.filter(name=name)
    if state:
        runs = runs.filter(state=state)
    try:
        rows, next_cursor = JOB_RUNS_KEYSET.page(runs, "-started_at", request.GET.get("cursor"),
                                                 JOB_RUNS_KEYSET.page_size)
    except ValidationError:
        messages.error(request, "That page link is out of date; showing the first page.")
        return redirect("job-runs")
    return render(request, "job_runs.html", {
        "latest": jobs.latest_runs(), "runs": rows, "next_cursor": next_cursor, "name": name, "state": state,
        "job_names": sorted(jobs.JOBS), "states": JobRun.State.choices,
    })


def server_error(request: HttpRequest) -> HttpResponse:
    """500, or 503 when the database does not answer (restarting, failing over): JSON under
    /api/ with Retry-After, so clients retry instead of giving up; a plain page elsewhere,
    made without the database. Django calls this inside its handling of the exception."""
    error = sys.exc_info()[1]
    unavailable = isinstance(error, (DatabaseOperationalError, InterfaceError))
    if request.path.startswith("/api/"):
        if unavailable:
            response = JsonResponse({"detail": "The database is not answering; nothing was written. Retry in a few "
                                               "seconds.", "errors": {}}, status=503)
            response["Retry-After"] = str(RETRY_AFTER_SECONDS)
            return response
        return JsonResponse({"detail": "Something went wrong on our side; it is logged.", "errors": {}}, status=500)
    if unavailable:
        response = HttpResponse(UNAVAILABLE_PAGE, status=503, content_type="text/html; charset=utf-8")
        response["Retry-After"] = str(RETRY_AFTER_SECONDS)
        return response
    return defaults.server_error(request)


RETRY_AFTER_SECONDS = 5
UNAVAILABLE_PAGE = ("<!doctype html><title>Back in a moment · SDR CRM</title><h1>Back in a moment</h1>"
                    "<p>The database is not answering; nothing you sent was lost half-way. Try again in a few "
                    "seconds.</p>")


def not_found(request: HttpRequest, exception: Exception) -> HttpResponse:
    """404: JSON under /api/ (the API's error shape, so clients parse every answer the
    same way), Django's page elsewhere."""
    if request.path.startswith("/api/"):
        return JsonResponse({"detail": f"No API endpoint or record at {request.path}.", "errors": {}}, status=404)
    return page_not_found(request, exception)
