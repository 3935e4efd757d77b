from __future__ import annotations

import csv
import io
import json
import os
import shutil
import tempfile

import pytest
from django.conf import settings
from django.db import connection
from django.test import Client
from rest_framework.test import APIClient

from routing.models import Pool, PoolMember
from sdrcrm.models import Role

from .factories import TeamFactory, UserFactory


def pytest_configure(config: pytest.Config) -> None:
    # CI must test what production runs: refuse to pass on SQLite there.
    if os.environ.get("CI") == "true" and settings.DATABASES["default"]["ENGINE"].endswith("sqlite3"):
        raise pytest.UsageError("CI=true but DATABASE_URL is not set: refusing to run the suite on SQLite.")
    # Real hashing costs ~0.2 s a user; the tests make hundreds of users.
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
    if settings.CACHES["default"]["BACKEND"].endswith("FileBasedCache"):
        # A cache folder of this run's own (and of the processes its tests start), not the
        # demo's var/cache, set before anything reads the cache.
        folder = tempfile.mkdtemp(prefix="sdrcrm-test-cache-")
        settings.CACHES["default"]["LOCATION"] = os.environ["CACHE_DIR"] = folder
        config.add_cleanup(lambda: shutil.rmtree(folder, ignore_errors=True))


def on_postgres() -> bool:
    return settings.DATABASES["default"]["ENGINE"].endswith("postgresql")


def require(available: bool, ci_message: str, skip_reason: str) -> None:
    """Tests of real parts (PostgreSQL, Redis, a worker, a browser) skip on a laptop that
    lacks them, and fail in CI, where a skip would hide a missing feature."""
    if available:
        return
    if os.environ.get("CI") == "true":
        pytest.fail(ci_message)
    pytest.skip(skip_reason)


def require_worker_stack() -> None:
    require(on_postgres() and bool(settings.REDIS_URL),
            "CI must run the real-worker tests: set DATABASE_URL (PostgreSQL) and REDIS_URL",
            "needs DATABASE_URL=postgres://… and REDIS_URL=redis://… (CI sets both)")


def database_url() -> str:
    """The test database as a URL, for worker processes started by a test."""
    db = connection.settings_dict
    return f"postgres://{db['USER']}:{db['PASSWORD'] or ''}@{db['HOST']}:{db['PORT'] or 5432}/{db['NAME']}"


# --- Helpers for every folder ----------------------------------------------------------------


def send(client, method: str, url: str, body) -> object:
    """Send `body` as JSON: the raw text when it is a str (to send malformed JSON), else encoded."""
    text = body if isinstance(body, str) else json.dumps(body)
    return getattr(client, method)(url, text, content_type="application/json")


def assert_refused(response, field: str | None = None, status: int = 400) -> dict:
    """The API refused the request as every refusal must look: `status`, a JSON body whose
    `detail` is a message in words and whose `errors` maps fields to their messages, naming
    `field` when one is given. Returns the body."""
    assert response.status_code == status, response.content
    body = response.json()
    assert isinstance(body["detail"], str) and body["detail"]
    assert isinstance(body["errors"], dict)
    if field is not None:
        assert field in body["errors"], body
        assert all(isinstance(message, str) for message in body["errors"][field])
    return body


def exported(client, url: str) -> list[dict[str, str]]:
    """The rows of a CSV export (`url`), checked to be streamed as an attachment."""
    response = client.get(url)
    assert response.status_code == 200
    assert response["Content-Type"] == "text/csv; charset=utf-8"
    assert response["Content-Disposition"].startswith('attachment; filename="')
    assert response.streaming
    return list(csv.DictReader(io.StringIO(b"".join(response.streaming_content).decode())))


def lead_page(client, lead) -> str:
    """The lead's page (as `client`'s user sees it): it must answer 200."""
    response = client.get(f"/leads/{lead.pk}/")
    assert response.status_code == 200
    return response.content.decode()


def pool_of(name: str, *users, weights=None) -> Pool:
    """The seeded routing pool `name` with `users` as members, in turn order (weight 1
    unless `weights` maps a user to another)."""
    pool = Pool.objects.get(name=name)
    for i, user in enumerate(users):
        PoolMember.objects.create(pool=pool, user=user, position=i, weight=(weights or {}).get(user, 1))
    return pool


# --- Fixtures for every folder ---------------------------------------------------------------


@pytest.fixture(autouse=True)
def unthrottled(settings):
    """Tests make many requests as few users; tests/sdrcrm/test_throttling.py sets its own rates."""
    settings.API_THROTTLE_RATE = settings.API_INTEGRATION_THROTTLE_RATE = "1000000/minute"
    settings.API_ANON_THROTTLE_RATE = "1000000/minute"
    settings.LOGIN_ADDRESS_RATE = settings.LOGIN_USERNAME_RATE = "1000000/minute"


@pytest.fixture(autouse=True)
def session_saved_on_every_request(settings):
    """Every page saves the session, so a page costs the same queries whenever it is asked
    (the query-count tests compare two requests); tests/sdrcrm/test_security.py sets the
    once-a-minute renewal of production and tests it."""
    settings.SESSION_RENEW_SECONDS = 0


@pytest.fixture(autouse=True)
def celery_eager():
    """Tasks run inline unless a test starts a real worker (tests/sdrcrm/test_worker.py)."""
    from sdrcrm.celery import app

    app.conf.task_always_eager = True
    yield
    app.conf.task_always_eager = False


SEED_MIGRATIONS = [
    "leads.migrations.0003_seed_queues",
    "scoring.migrations.0002_seed_rules",
    "routing.migrations.0002_seed_pools_and_rules",
]


@pytest.fixture
def seeded(transactional_db):
    """A transactional test flushes the database when it ends, taking the rows the data
    migrations seeded with it; put them back (the seed functions are idempotent)."""
    import importlib

    from django.apps import apps

    for module in SEED_MIGRATIONS:
        importlib.import_module(module).seed(apps, None)


@pytest.fixture
def team(db):
    return TeamFactory()


@pytest.fixture
def sdr(team):
    return UserFactory(role=Role.SDR, team=team)


@pytest.fixture
def teammate(team):
    return UserFactory(role=Role.SDR, team=team)


@pytest.fixture
def other_sdr(db):
    return UserFactory(role=Role.SDR, team=TeamFactory())


@pytest.fixture
def manager(team):
    user = UserFactory(role=Role.SDR_MANAGER)
    team.manager = user
    team.save()
    return user


@pytest.fixture
def ops(db):
    return UserFactory(role=Role.OPS)


@pytest.fixture
def integration(db):
    return UserFactory(role=Role.INTEGRATION)


@pytest.fixture
def ae(db):
    """An account executive, Alice Seller (pages show her name)."""
    return UserFactory(role=Role.AE, first_name="Alice", last_name="Seller")


@pytest.fixture
def api():
    """An API client; `api.as_user(user)` authenticates it with the user's token."""
    client = APIClient()
    secrets: dict[int, str] = {}

    def as_user(user):
        from sdrcrm.models import ApiToken

        if user.pk not in secrets:
            secrets[user.pk] = ApiToken.objects.create(user=user, name="tests")[1]
        client.credentials(HTTP_AUTHORIZATION=f"Token {secrets[user.pk]}")
        return client

    client.as_user = as_user
    return client


@pytest.fixture
def sdr_api(api, sdr):
    """The API client authenticated as `sdr` (the same client as `api`)."""
    return api.as_user(sdr)


@pytest.fixture
def ops_client(ops) -> Client:
    """A Django test client logged in as `ops`, made staff and superuser: for the admin pages."""
    ops.is_staff = ops.is_superuser = True
    ops.save()
    client = Client()
    client.force_login(ops)
    return client
