from __future__ import annotations

import time
from collections.abc import Callable

from csp.constants import HEADER
from csp.middleware import CheckableLazyObject, CSPMiddleware
from csp.utils import build_policy
from django.conf import settings
from django.contrib.auth import logout
from django.core.exceptions import ImproperlyConfigured, PermissionDenied
from django.core.handlers.exception import convert_exception_to_response
from django.http import HttpRequest, HttpResponse, HttpResponseBase, JsonResponse
from django.utils import timezone
from django.utils.module_loading import import_string
from knox.settings import knox_settings

from .local_time import zone_of
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


def carries_api_token(request: HttpRequest) -> bool:
    """An API request whose Authorization header names a token (knox's prefix, any case):
    the token authenticates it or the request is refused, and the session never does
    (knox's TokenAuthentication raises rather than pass a bad token on to
    SessionAuthentication)."""
    words = request.META.get("HTTP_AUTHORIZATION", "").split(None, 1)
    return (bool(words) and words[0].lower() == knox_settings.AUTH_HEADER_PREFIX.lower()
            and request.path.startswith("/api/"))


class BrowserSessionMiddleware:
    """The middlewares a browser's session needs (settings.SESSION_MIDDLEWARE, in their
    order: the session, the session's user, the pages' own checks, the flash messages),
    run as Django runs them for every request but an API request that carries a token
    (carries_api_token). For such a request they did nothing but cost: the user is the
    token's, no session is read or saved, no message is shown. Passing them by took 4 % of
    an ingested lead's instructions off (bench/REPORT.md); the answers are the same,
    header for header (tests/sdrcrm/test_session_middleware.py). The CSRF check stays in
    MIDDLEWARE for every request (DRF's views are exempt from it; its session
    authentication checks CSRF itself)."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response
        # Chained as django.core.handlers.base.BaseHandler.load_middleware chains MIDDLEWARE.
        handler: Callable[[HttpRequest], HttpResponse] = get_response
        for path in reversed(settings.SESSION_MIDDLEWARE):
            middleware = import_string(path)(handler)
            hooks = [name for name in ("process_view", "process_exception", "process_template_response")
                     if hasattr(middleware, name)]
            if hooks:  # Django would call them from its own list; this chain does not
                raise ImproperlyConfigured(f"{path} has {', '.join(hooks)}: put it in MIDDLEWARE, not "
                                           "SESSION_MIDDLEWARE.")
            handler = convert_exception_to_response(middleware)
        self.browser = handler

    def __call__(self, request: HttpRequest) -> HttpResponse:
        if carries_api_token(request):
            return self.get_response(request)
        return self.browser(request)


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


class LocalTimeMiddleware:
    """Pages show and read times in the user's zone (sdrcrm.local_time): an SDR in New
    York sees a task due at 15:00 UTC as 10:00 EST, and a time typed into a form is taken
    as theirs. The API stays in UTC."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        if request.user.is_authenticated and not request.path.startswith("/api/"):
            with timezone.override(zone_of(request.user)):
                return self.get_response(request)
        return self.get_response(request)


class AbsoluteSessionTimeoutMiddleware:
    """A session ends SESSION_ABSOLUTE_SECONDS after login however active it is, and
    SESSION_COOKIE_AGE after its last use (the idle timeout). The idle deadline is pushed
    forward by saving the session, at most once every SESSION_RENEW_SECONDS: saving it on
    every request (Django's SESSION_SAVE_EVERY_REQUEST) wrote and committed a database row
    for every page seen, about a tenth of a page's cost."""

    KEY = "_session_started"
    RENEWED = "_session_renewed"

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
            if now - request.session.get(self.RENEWED, 0) >= settings.SESSION_RENEW_SECONDS:
                request.session[self.RENEWED] = now  # modified: saved with a new idle deadline
        return self.get_response(request)


# What a view or a request may bring to its own policy (csp.decorators, a nonce): then
# django-csp builds the header as it always does.
OWN_CSP_PARTS = ("_csp_exempt", "_csp_config", "_csp_update", "_csp_replace",
                 "_csp_exempt_ro", "_csp_config_ro", "_csp_update_ro", "_csp_replace_ro")


class ContentSecurityPolicyMiddleware(CSPMiddleware):
    """django-csp's middleware, with the site's own policy built once (per settings object)
    instead of for every response: building it took 0.15 ms a response, about 5 % of an
    ingested lead's CPU (bench/REPORT.md). A response or request with parts of its own,
    the report-only policy, excluded prefixes and DEBUG's error pages go through
    django-csp unchanged."""

    _site: tuple[object, str] | None = None

    def process_response(self, request: HttpRequest, response: HttpResponseBase) -> HttpResponseBase:
        policy = settings.CONTENT_SECURITY_POLICY
        if (settings.DEBUG or getattr(settings, "CONTENT_SECURITY_POLICY_REPORT_ONLY", None)
                or "EXCLUDE_URL_PREFIXES" in policy or HEADER in response
                or getattr(request, "_csp_nonce", None) is not None
                or any(hasattr(response, name) for name in OWN_CSP_PARTS)):
            return super().process_response(request, response)
        if self._site is None or self._site[0] is not policy:
            self._site = (policy, build_policy())
        response[HEADER] = self._site[1]
        # As django-csp does: a nonce asked for after the header is written is an error.
        request.csp_nonce = CheckableLazyObject(self._csp_nonce_post_response)  # type: ignore[attr-defined]
        return response
