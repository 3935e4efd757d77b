"""API tokens (django-rest-knox's, sdrcrm.ApiToken): one per client with a name, stored as
a hash, expiring, listed for their owner and ops, revoked one by one or all at once when
the owner's password changes or they are deactivated; the tokens of before keep working."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from sdrcrm.models import ApiToken
from tests.factories import PASSWORD

TOKEN = "/api/v1/auth/token/"
TOKENS = "/api/v1/auth/tokens/"
ME = "/api/v1/users/me/"


def new_token(api, user, name: str = "") -> str:
    response = api.post(TOKEN, {"username": user.username, "password": PASSWORD, "name": name}, format="json")
    assert response.status_code == 200, response.content
    return response.json()["token"]


def me(api, token: str) -> int:
    api.credentials(HTTP_AUTHORIZATION=f"Token {token}")
    return api.get(ME).status_code


@pytest.mark.django_db
def test_each_client_gets_its_own_named_expiring_token(api, sdr, settings):
    first, second = new_token(api, sdr, "Laptop"), new_token(api, sdr, "Marketo sync")

    assert first != second and me(api, first) == me(api, second) == 200
    tokens = api.get(TOKENS).json()
    assert [t["name"] for t in tokens] == ["Marketo sync", "Laptop"]  # newest first
    expiry = ApiToken.objects.get(name="Laptop").expiry
    assert timedelta(days=settings.API_TOKEN_TTL_DAYS - 1) < expiry - timezone.now() <= timedelta(
        days=settings.API_TOKEN_TTL_DAYS)


@pytest.mark.django_db
def test_a_revoked_token_is_refused_at_once_and_the_others_keep_working(api, sdr):
    laptop, phone = new_token(api, sdr, "Laptop"), new_token(api, sdr, "Phone")
    me(api, laptop)
    laptop_id = next(t["id"] for t in api.get(TOKENS).json() if t["name"] == "Laptop")

    assert api.delete(f"{TOKENS}{laptop_id}/").status_code == 204

    assert me(api, laptop) == 401 and me(api, phone) == 200


@pytest.mark.django_db
def test_people_list_and_revoke_only_their_own_tokens_and_ops_everyones(api, sdr, teammate, ops):
    mine, theirs = new_token(api, sdr, "mine"), new_token(api, teammate, "theirs")
    theirs_id = ApiToken.objects.get(name="theirs").digest

    me(api, mine)
    assert [t["name"] for t in api.get(TOKENS).json()] == ["mine"]
    assert api.delete(f"{TOKENS}{theirs_id}/").status_code == 404
    assert me(api, theirs) == 200

    me(api, new_token(api, ops, "ops"))
    assert {t["name"] for t in api.get(TOKENS).json()} == {"mine", "theirs", "ops"}
    assert api.delete(f"{TOKENS}{theirs_id}/").status_code == 204
    assert me(api, theirs) == 401


@pytest.mark.django_db
def test_a_new_password_revokes_every_token_of_the_user(api, sdr):
    tokens = [new_token(api, sdr, "one"), new_token(api, sdr, "two")]
    assert all(me(api, token) == 200 for token in tokens)  # cached now

    sdr.set_password("another-long-passphrase-7")
    sdr.save()

    assert [me(api, token) for token in tokens] == [401, 401]
    assert not ApiToken.objects.filter(user=sdr).exists()


@pytest.mark.django_db
def test_deactivating_a_user_revokes_their_tokens(api, sdr, ops):
    token = new_token(api, sdr)
    me(api, new_token(api, ops))

    assert api.patch(f"/api/v1/users/{sdr.pk}/", {"is_active": False}, format="json").status_code == 200

    assert me(api, token) == 401 and not ApiToken.objects.filter(user=sdr).exists()


@pytest.mark.django_db
def test_an_expired_token_is_refused_and_deleted(api, sdr):
    token = new_token(api, sdr)
    assert me(api, token) == 200  # cached with its expiry
    ApiToken.objects.filter(user=sdr).update(expiry=timezone.now() - timedelta(seconds=1))
    from django.core.cache import cache

    cache.clear()  # an update around the ORM: read the row again

    response = api.get(ME)

    assert response.status_code == 401 and "expired" in response.json()["detail"]
    assert not ApiToken.objects.exists()


@pytest.mark.django_db
def test_a_cached_token_past_its_expiry_is_refused_too(api, sdr, monkeypatch):
    token = new_token(api, sdr)
    assert me(api, token) == 200
    later = timezone.now() + timedelta(days=400)
    monkeypatch.setattr("sdrcrm.authentication.timezone.now", lambda: later)

    assert me(api, token) == 401


@pytest.mark.django_db
def test_the_tokens_of_before_keep_working_after_the_migration(api, integration):
    """The migration that made tokens knox's turns each DRF token into an ApiToken under
    the same secret (run here on a DRF token made now)."""
    import importlib

    from django.apps import apps
    from rest_framework.authtoken.models import Token

    old = Token.objects.create(key="a" * 40, user=integration)
    migration = importlib.import_module("sdrcrm.migrations.0007_api_tokens_and_login_delays")

    migration.keep_existing_tokens(apps, None)

    token = ApiToken.objects.get(user=integration)
    assert token.expiry is not None and token.name == migration.OLD_TOKEN_NAME
    assert not Token.objects.filter(pk=old.pk).exists()
    assert me(api, "a" * 40) == 200
