from __future__ import annotations

import os
import subprocess
import sys
import time
from datetime import timedelta

import pytest
from django.conf import settings as django_settings
from django.urls import reverse

from sdrcrm.middleware import AbsoluteSessionTimeoutMiddleware
from tests.factories import UserFactory


@pytest.mark.django_db
def test_sessions_end_after_the_absolute_lifetime(client):
    user = UserFactory()
    client.force_login(user)
    assert client.get("/leads/").status_code == 200
    session = client.session
    session[AbsoluteSessionTimeoutMiddleware.KEY] = time.time() - django_settings.SESSION_ABSOLUTE_SECONDS - 1
    session.save()

    response = client.get("/leads/")
    assert response.status_code == 302 and "/login/" in response.url


@pytest.mark.django_db
def test_logout_invalidates_the_session(client):
    client.force_login(UserFactory())
    old_cookie = client.cookies[django_settings.SESSION_COOKIE_NAME].value
    client.post(reverse("logout"))
    # The server must forget the session, not only the browser its cookie.
    client.cookies[django_settings.SESSION_COOKIE_NAME] = old_cookie
    assert client.get("/leads/").status_code == 302


@pytest.mark.django_db
def test_the_idle_timeout_of_thirty_minutes_is_pushed_forward_at_most_once_a_minute(client, settings):
    from django.contrib.sessions.models import Session
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    assert django_settings.SESSION_COOKIE_AGE == 30 * 60
    from sdrcrm import settings as configured

    assert configured.SESSION_RENEW_SECONDS == 60  # the default (tests/conftest.py renews on every request)
    settings.SESSION_RENEW_SECONDS = configured.SESSION_RENEW_SECONDS
    client.force_login(UserFactory())
    client.get("/leads/")
    key = client.session.session_key

    def session_writes() -> int:
        with CaptureQueriesContext(connection) as queries:
            assert client.get("/leads/").status_code == 200
        return sum(1 for q in queries.captured_queries if q["sql"].startswith("UPDATE \"django_session\""))

    assert session_writes() == 0  # renewed a moment ago: nothing written
    session = client.session
    session[AbsoluteSessionTimeoutMiddleware.RENEWED] = time.time() - django_settings.SESSION_RENEW_SECONDS - 1
    session.save()
    Session.objects.filter(session_key=key).update(expire_date=Session.objects.get(session_key=key).expire_date
                                                   - timedelta(minutes=20))
    before = Session.objects.get(session_key=key).expire_date
    assert session_writes() == 1  # a minute on: the idle deadline moves
    assert Session.objects.get(session_key=key).expire_date > before + timedelta(minutes=19)


def test_check_deploy_is_clean_with_production_settings(tmp_path):
    env = {
        **os.environ,
        "PRODUCTION": "true",
        "SECRET_KEY": "x" * 20 + "a-long-random-production-secret-value-1234567890",
        "ALLOWED_HOSTS": "crm.example.com",
        "DATABASE_URL": f"sqlite:///{tmp_path / 'deploy.sqlite3'}",
    }
    result = subprocess.run(
        [sys.executable, "manage.py", "check", "--deploy", "--fail-level", "WARNING"],
        cwd=django_settings.BASE_DIR, env=env, capture_output=True, text=True, timeout=60,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "no issues" in result.stdout


def test_production_refuses_the_development_secret_key():
    env = {**os.environ, "PRODUCTION": "true", "ALLOWED_HOSTS": "crm.example.com"}
    env.pop("SECRET_KEY", None)
    result = subprocess.run(
        [sys.executable, "manage.py", "check"], cwd=django_settings.BASE_DIR, env=env,
        capture_output=True, text=True, timeout=60,
    )
    assert result.returncode != 0
    assert "SECRET_KEY" in result.stderr


@pytest.mark.django_db
def test_healthz_reports_database_and_broker(client):
    response = client.get("/healthz")
    assert response.status_code == 200
    assert response.json()["database"] == "ok" and response.json()["broker"] == "ok"


@pytest.mark.django_db
def test_healthz_is_503_when_the_broker_is_down(client, monkeypatch):
    from sdrcrm import views

    def refuse(*args, **kwargs):
        raise ConnectionRefusedError

    monkeypatch.setattr(views.celery_app, "connection_for_write", refuse)
    response = client.get("/healthz")
    assert response.status_code == 503
    assert response.json()["broker"].startswith("error")


@pytest.mark.django_db
def test_integration_users_cannot_sign_in_to_the_pages(client, integration):
    from tests.factories import PASSWORD

    response = client.post(reverse("login"), {"username": integration.username, "password": PASSWORD})

    assert "Integration users work through the API with a token" in response.content.decode()
    assert "_auth_user_id" not in client.session


@pytest.mark.django_db
def test_pages_refuse_an_integration_users_session_but_the_api_serves_it(client, integration):
    client.force_login(integration)

    page = client.get("/leads/")
    api = client.get("/api/v1/users/me/")

    assert page.status_code == 403 and "Integration users work through the API" in page.content.decode()
    assert api.status_code == 200
