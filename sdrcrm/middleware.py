from __future__ import annotations

import time
from collections.abc import Callable

from django.conf import settings
from django.contrib.auth import logout
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse, JsonResponse

from .models import Role


def body_too_large(size: int | None = None) -> JsonResponse:
    """413 in the API's error shape."""
    limit = settings.DATA_UPLOAD_MAX_MEMORY_SIZE
    said = f"The request body is {size:,} bytes" if size else "The request body is too large"
    return JsonResponse({"detail": f"{said}; the API takes at most {limit:,} bytes (send a bulk request in "
                                   "smaller batches).", "errors": {}}, status=413)


class ApiBodyLimitMiddleware:
    """An API body over DATA_UPLOAD_MAX_MEMORY_SIZE answers 413 JSON before anything reads
    it (Django's own refusal is an HTML 400 page and a logged traceback)."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        if request.path.startswith("/api/") and not request.content_type.startswith("multipart/"):
            try:
                size = int(request.META.get("CONTENT_LENGTH") or 0)
            except ValueError:
                size = 0
            if size > settings.DATA_UPLOAD_MAX_MEMORY_SIZE:
                return body_too_large(size)
        return self.get_response(request)


class PagesRefuseIntegrationsMiddleware:
    """Integration users work through the API: a page (anything outside /api/) answers
    them 403, whatever session they hold. API requests are passed on untouched, so they
    do not pay for loading the session's user."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        if not request.path.startswith("/api/") and getattr(request.user, "role", None) == Role.INTEGRATION:
            raise PermissionDenied("Integration users work through the API with a token, not the pages.")
        return self.get_response(request)


class AbsoluteSessionTimeoutMiddleware:
    """A session ends SESSION_ABSOLUTE_SECONDS after login however active it is (the idle
    timeout is Django's SESSION_COOKIE_AGE, renewed on every request)."""

    KEY = "_session_started"

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        if request.user.is_authenticated and hasattr(request, "session"):
            started = request.session.get(self.KEY)
            now = time.time()
            if started is None:
                request.session[self.KEY] = now
            elif now - started > settings.SESSION_ABSOLUTE_SECONDS:
                logout(request)
        return self.get_response(request)
