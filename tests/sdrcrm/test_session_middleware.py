"""The browser's session middlewares (settings.SESSION_MIDDLEWARE) are passed by for an API
request that carries a token, and run for everything else (sdrcrm/middleware.py,
BrowserSessionMiddleware)."""

from __future__ import annotations

import pytest
from django.conf import settings as django_settings
from django.core.exceptions import ImproperlyConfigured
from django.db import connection
from django.test.utils import CaptureQueriesContext
from rest_framework.test import APIClient

from sdrcrm.checks import session_middleware
from sdrcrm.middleware import BrowserSessionMiddleware
from tests.factories import LeadFactory, UserFactory

pytestmark = pytest.mark.django_db
ME = "/api/v1/users/me/"

# MIDDLEWARE as it was, every middleware run for every request.
FLAT_MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "sdrcrm.middleware.ApiBodyLimitMiddleware",
    "sdrcrm.config.PinConfigMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "sdrcrm.middleware.PagesRefuseIntegrationsMiddleware",
    "sdrcrm.middleware.AbsoluteSessionTimeoutMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "sdrcrm.middleware.ContentSecurityPolicyMiddleware",
]


def session_writes(queries) -> int:
    return sum('"django_session"' in q["sql"] and not q["sql"].startswith("SELECT") for q in queries)


@pytest.mark.parametrize("prefix", ["Token", "token", "TOKEN"])
def test_a_token_request_leaves_the_browsers_session_alone(api, ops, sdr, prefix):
    """The same client holds the ops user's session; the token's user is the one the API
    sees, and the session is neither read for its user nor renewed (the suite renews it on
    every request it runs for: tests/conftest.py)."""
    api.force_login(ops)
    token = api.as_user(sdr)._credentials["HTTP_AUTHORIZATION"].split()[1]
    api.credentials(HTTP_AUTHORIZATION=f"{prefix} {token}")
    with CaptureQueriesContext(connection) as queries:
        answer = api.get(ME)
    assert answer.status_code == 200 and answer.json()["username"] == sdr.username
    assert session_writes(queries.captured_queries) == 0
    assert not any('"django_session"' in q["sql"] for q in queries.captured_queries)
    assert "Cookie" not in answer.get("Vary", "")


def test_a_session_request_to_the_api_still_runs_them(api, ops):
    """No token: the session authenticates, is renewed, and its CSRF check holds."""
    api.force_login(ops)
    with CaptureQueriesContext(connection) as queries:
        answer = api.get(ME)
    assert answer.status_code == 200 and answer.json()["username"] == ops.username
    assert session_writes(queries.captured_queries) == 1

    strict = APIClient(enforce_csrf_checks=True)
    strict.force_login(ops)
    refused = strict.post("/api/v1/leads/", {"email": "a@example.com", "last_name": "A",
                                             "initial_source": "web"}, format="json")
    assert refused.status_code == 403 and "CSRF" in refused.json()["detail"]


def test_another_authorization_scheme_falls_back_to_the_session(api, ops):
    api.force_login(ops)
    api.credentials(HTTP_AUTHORIZATION="Bearer something")
    answer = api.get(ME)
    assert answer.status_code == 200 and answer.json()["username"] == ops.username


def test_a_page_with_a_token_header_runs_them(client, sdr):
    """Outside /api/ a token is nothing: the page wants its session."""
    assert client.get("/leads/", HTTP_AUTHORIZATION="Token anything").status_code == 302
    client.force_login(UserFactory(role="integration"))
    assert client.get("/leads/", HTTP_AUTHORIZATION="Token anything").status_code == 403


def test_a_bad_token_is_refused_without_the_session(api, ops):
    api.force_login(ops)
    api.credentials(HTTP_AUTHORIZATION="Token not-a-token")
    assert api.get(ME).status_code == 401


def answers(middleware: list[str], requests) -> list[tuple[int, dict[str, str], bytes]]:
    from django.test import override_settings

    with override_settings(MIDDLEWARE=middleware):
        return [(answer.status_code, dict(answer.headers), answer.content) for answer in requests()]


def test_token_requests_are_answered_as_with_every_middleware(api, sdr):
    """Header for header and byte for byte, what the flat MIDDLEWARE answered."""
    lead = LeadFactory(owner=sdr)
    client = api.as_user(sdr)

    def requests():
        return [client.get(ME), client.get("/api/v1/leads/"), client.get(f"/api/v1/leads/{lead.pk}/"),
                client.get("/api/v1/nothing-here/"), client.post("/api/v1/leads/", {}, format="json")]

    assert answers(django_settings.MIDDLEWARE, requests) == answers(FLAT_MIDDLEWARE, requests)
    assert "sdrcrm.middleware.BrowserSessionMiddleware" in django_settings.MIDDLEWARE


def test_a_session_middleware_with_view_hooks_is_refused(settings):
    settings.SESSION_MIDDLEWARE = [*settings.SESSION_MIDDLEWARE, "django.middleware.csrf.CsrfViewMiddleware"]
    with pytest.raises(ImproperlyConfigured, match="CsrfViewMiddleware has process_view"):
        BrowserSessionMiddleware(lambda request: None)


def test_the_check_wants_the_session_its_user_and_messages(settings):
    assert session_middleware() == []
    settings.SESSION_MIDDLEWARE = [path for path in settings.SESSION_MIDDLEWARE if "messages" not in path]
    assert [error.id for error in session_middleware()] == ["sdrcrm.E001"]
