from __future__ import annotations

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.db import connection
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_GET, require_POST
from django.views.defaults import page_not_found
from rest_framework.exceptions import ValidationError

from . import notifications as inbox
from .celery import app as celery_app
from .pagination import Keyset

NOTIFICATIONS_KEYSET = Keyset(["created_at"], default="-created_at", page_size=50)


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


def home(request: HttpRequest) -> HttpResponse:
    return redirect("leads:list")


@login_required
def notification_list(request: HttpRequest) -> HttpResponse:
    """Your notifications (or, for managers and ops, a channel's), newest first, 50 a page."""
    channel = request.GET.get("channel", "")
    reader = inbox.may_read_channels(request.user)
    try:
        feed = inbox.channel_feed(request.user, channel) if channel else inbox.inbox(request.user)
        rows, next_cursor = NOTIFICATIONS_KEYSET.page(feed, "-created_at", request.GET.get("cursor"),
                                                      NOTIFICATIONS_KEYSET.page_size)
    except ValidationError:
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


def not_found(request: HttpRequest, exception: Exception) -> HttpResponse:
    """404: JSON under /api/ (the API's error shape, so clients parse every answer the
    same way), Django's page elsewhere."""
    if request.path.startswith("/api/"):
        return JsonResponse({"detail": f"No API endpoint or record at {request.path}.", "errors": {}}, status=404)
    return page_not_found(request, exception)
