from __future__ import annotations

import os
import shutil
import tempfile

import pytest
from django.conf import settings
from django.db import connection
from rest_framework.test import APIClient

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


@pytest.fixture(autouse=True)
def unthrottled(settings):
    """Tests make many requests as few users; tests/sdrcrm/test_throttling.py sets its own rates."""
    settings.API_THROTTLE_RATE = settings.API_INTEGRATION_THROTTLE_RATE = "1000000/minute"
    settings.API_ANON_THROTTLE_RATE = "1000000/minute"


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
def api():
    """An API client; `api.as_user(user)` authenticates it with the user's token."""
    client = APIClient()

    def as_user(user):
        from rest_framework.authtoken.models import Token

        token, _ = Token.objects.get_or_create(user=user)
        client.credentials(HTTP_AUTHORIZATION=f"Token {token.key}")
        return client

    client.as_user = as_user
    return client
