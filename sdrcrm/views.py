from __future__ import annotations

from django.conf import settings
from django.db import connection
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import redirect
from django.views.decorators.http import require_GET

from .celery import app as celery_app


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
