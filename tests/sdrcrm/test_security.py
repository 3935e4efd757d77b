from __future__ import annotations

import os
import subprocess
import sys
import time

import pytest
from django.conf import settings as django_settings
from django.urls import reverse

from sdrcrm.middleware import AbsoluteSessionTimeoutMiddleware
from sdrcrm.models import User
from tests.factories import PASSWORD, UserFactory


@pytest.mark.django_db
def test_failed_logins_lock_the_account_even_with_the_right_password_after(client, settings):
    settings.LOGIN_MAX_FAILURES = 3
    user = UserFactory()
    for _ in range(3):
        response = client.post(reverse("login"), {"username": user.username, "password": "wrong"})
        assert response.status_code == 200  # the form again, with an error
    user.refresh_from_db()
    assert user.locked_until is not None

    client.post(reverse("login"), {"username": user.username, "password": PASSWORD})
    assert "_auth_user_id" not in client.session


@pytest.mark.django_db
def test_lockout_applies_to_the_api_token_endpoint_too(api, settings):
    settings.LOGIN_MAX_FAILURES = 2
    user = UserFactory()
    for _ in range(2):
        api.post("/api/v1/auth/token/", {"username": user.username, "password": "nope"})
    response = api.post("/api/v1/auth/token/", {"username": user.username, "password": PASSWORD})
    assert response.status_code == 400
    assert "token" not in response.json()


@pytest.mark.django_db
def test_a_good_login_resets_the_failure_counter(client, settings):
    settings.LOGIN_MAX_FAILURES = 3
    user = UserFactory()
    client.post(reverse("login"), {"username": user.username, "password": "wrong"})
    client.post(reverse("login"), {"username": user.username, "password": PASSWORD})
    assert User.objects.get(pk=user.pk).failed_logins == 0


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


def test_idle_timeout_is_thirty_minutes_renewed_on_each_request():
    assert django_settings.SESSION_COOKIE_AGE == 30 * 60
    assert django_settings.SESSION_SAVE_EVERY_REQUEST is True


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
