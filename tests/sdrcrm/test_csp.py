"""The Content-Security-Policy: every answer (the pages, the admin, the API and its docs)
carries the one strict policy, and nothing the pages serve needs more than it allows.
tests/browser/test_csp.py checks in Chromium that the pages really keep to it."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from django.conf import settings
from django.contrib.staticfiles import finders

POLICY = {
    "default-src": {"'self'"},
    "script-src": {"'self'"},
    "style-src": {"'self'"},
    "img-src": {"'self'", "data:"},
    "font-src": {"'self'"},
    "connect-src": {"'self'"},
    "object-src": {"'none'"},
    "base-uri": {"'self'"},
    "form-action": {"'self'"},
    "frame-ancestors": {"'none'"},
}


def policy_of(response) -> dict[str, set[str]]:
    """The Content-Security-Policy header as {directive: {sources}}: exactly the directives
    above, so a source added to one (an 'unsafe-inline', a CDN) fails the comparison."""
    assert "Content-Security-Policy" in response, dict(response.headers)
    assert "Content-Security-Policy-Report-Only" not in response
    directives: dict[str, set[str]] = {}
    for part in response["Content-Security-Policy"].split(";"):
        name, *sources = part.split()
        assert name not in directives, f"{name} twice"
        directives[name] = set(sources)
    return directives


@pytest.mark.django_db
def test_a_page_carries_the_policy(client, sdr):
    client.force_login(sdr)
    response = client.get("/leads/")
    assert response.status_code == 200
    assert policy_of(response) == POLICY


@pytest.mark.django_db
def test_the_login_page_carries_the_policy_before_anyone_logs_in(client):
    response = client.get("/login/")
    assert response.status_code == 200
    assert policy_of(response) == POLICY


@pytest.mark.django_db
def test_an_api_answer_carries_the_policy(sdr_api):
    response = sdr_api.get("/api/v1/leads/")
    assert response.status_code == 200
    assert policy_of(response) == POLICY


@pytest.mark.django_db
def test_an_api_refusal_carries_the_policy_too(client):
    response = client.get("/api/v1/leads/")
    assert response.status_code in (401, 403)
    assert policy_of(response) == POLICY


@pytest.mark.django_db
def test_the_admin_carries_the_same_policy(ops_client):
    response = ops_client.get("/admin/")
    assert response.status_code == 200
    assert policy_of(response) == POLICY


@pytest.mark.django_db
def test_the_api_docs_carry_the_policy_and_load_their_script_as_a_file(client, ops):
    """drf-spectacular's split Swagger view: the page names its init script by URL (script-src
    'self' runs it) and has no inline <script> or <style> (templates/drf_spectacular/)."""
    client.force_login(ops)
    response = client.get("/api/docs/")
    assert response.status_code == 200
    assert policy_of(response) == POLICY
    html = response.content.decode()
    assert not re.search(r"<script(?![^>]*\bsrc=)[^>]*>", html), "an inline <script>"
    assert "<style" not in html and "style=" not in html
    assert '<script src="/api/docs/?script="></script>' in html
    assert '/static/css/swagger-ui-page.css' in html

    script = client.get("/api/docs/?script=")
    assert script.status_code == 200
    assert script["Content-Type"].startswith("application/javascript")
    assert "SwaggerUIBundle(" in script.content.decode()


# The pages' own markup: the policy allows no inline style or script, so none may come back.
INLINE = [
    (re.compile(r"\sstyle\s*="), 'a style="" attribute'),
    (re.compile(r"<style[\s>]", re.IGNORECASE), "a <style> block"),
    (re.compile(r"<script(?![^>]*\bsrc=)[^>]*>", re.IGNORECASE), "an inline <script>"),
    (re.compile(r"\son[a-z]+\s*=", re.IGNORECASE), 'an on…="" handler'),
    (re.compile(r"javascript:", re.IGNORECASE), "a javascript: URL"),
]


COMMENT = re.compile(r"{% comment %}.*?{% endcomment %}|{#.*?#}", re.DOTALL)


def template_lines() -> list[tuple[str, int, str]]:
    """(file, line number, line) of every template, its comments blanked (they may name a <style>)."""
    lines = []
    for path in sorted(Path(settings.BASE_DIR, "templates").rglob("*.html")):
        text = COMMENT.sub(lambda comment: "\n" * comment.group().count("\n"), path.read_text())
        name = str(path.relative_to(settings.BASE_DIR))
        lines += [(name, number, line) for number, line in enumerate(text.splitlines(), start=1)]
    return lines


def test_no_template_carries_inline_style_or_script():
    lines = template_lines()
    assert any(name == "templates/base.html" for name, _, _ in lines)
    found = [f"{name}:{number}: {what}" for name, number, line in lines
             for pattern, what in INLINE if pattern.search(line)]
    assert not found, "\n".join(found)


@pytest.mark.django_db
def test_the_stylesheet_and_the_script_are_served_from_this_site(client, sdr):
    client.force_login(sdr)
    html = client.get("/leads/").content.decode()
    assert '<link rel="stylesheet" href="/static/css/app.css">' in html
    assert '<script src="/static/js/app.js" defer></script>' in html
    for path in ("css/app.css", "js/app.js", "css/swagger-ui-page.css"):
        assert finders.find(path) == str(Path(settings.BASE_DIR, "static", path))


def test_the_stylesheet_is_served_without_collectstatic_outside_production(client, settings):
    # The demo and a laptop's gunicorn run with DEBUG off and nothing collected: whitenoise
    # serves the files from where they are (WHITENOISE_USE_FINDERS).
    assert settings.DEBUG is False and settings.WHITENOISE_USE_FINDERS is True
    response = client.get("/static/css/app.css")
    assert response.status_code == 200 and b".login-form" in b"".join(response.streaming_content)


# sdrcrm.middleware.ContentSecurityPolicyMiddleware builds the site's policy once; what
# django-csp would build for the same answer is what it must send.


@pytest.mark.django_db
def test_a_changed_policy_is_sent_at_once_not_the_one_built_before(client, settings):
    assert policy_of(client.get("/login/")) == POLICY
    settings.CONTENT_SECURITY_POLICY = {"DIRECTIVES": {**settings.CONTENT_SECURITY_POLICY["DIRECTIVES"],
                                                       "img-src": ["'self'"]}}
    assert policy_of(client.get("/login/"))["img-src"] == {"'self'"}


def test_a_views_own_parts_and_exemption_go_through_django_csp(rf):
    from csp.decorators import csp_exempt, csp_update
    from django.http import HttpResponse

    from sdrcrm.middleware import ContentSecurityPolicyMiddleware

    middleware = ContentSecurityPolicyMiddleware(lambda request: HttpResponse())
    updated = csp_update({"img-src": ["https://maps.example"]})(lambda request: HttpResponse())
    exempt = csp_exempt()(lambda request: HttpResponse())

    def header(view) -> str | None:
        request = rf.get("/")
        middleware.process_request(request)
        return middleware.process_response(request, view(request)).get("Content-Security-Policy")

    assert "img-src 'self' data: https://maps.example" in header(updated)
    assert header(exempt) is None
    assert header(lambda request: HttpResponse()) == header(lambda request: HttpResponse())


def test_the_sites_policy_is_built_once_not_for_every_answer(rf, monkeypatch):
    from django.http import HttpResponse

    from sdrcrm import middleware

    built = []
    monkeypatch.setattr(middleware, "build_policy", lambda **parts: built.append(parts) or "default-src 'self'")
    monkeypatch.setattr(middleware.ContentSecurityPolicyMiddleware, "_site", None)
    csp = middleware.ContentSecurityPolicyMiddleware(lambda request: HttpResponse())
    for _ in range(3):
        request = rf.get("/")
        csp.process_request(request)
        assert csp.process_response(request, HttpResponse())["Content-Security-Policy"] == "default-src 'self'"
    assert len(built) == 1


def test_a_nonce_asked_for_after_the_header_is_written_is_an_error(rf):
    from csp.exceptions import CSPNonceError
    from django.http import HttpResponse

    from sdrcrm.middleware import ContentSecurityPolicyMiddleware

    middleware = ContentSecurityPolicyMiddleware(lambda request: HttpResponse())
    request = rf.get("/")
    middleware.process_request(request)
    middleware.process_response(request, HttpResponse())
    with pytest.raises(CSPNonceError):
        str(request.csp_nonce)
