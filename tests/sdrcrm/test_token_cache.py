"""API tokens and their users are cached between requests (sdrcrm/authentication.py),
and every change to the token or the user is seen by the next request."""

from __future__ import annotations

import pickle

import pytest
from django.core.cache import cache
from rest_framework.authtoken.models import Token

from sdrcrm.authentication import cache_key
from sdrcrm.models import Role

pytestmark = pytest.mark.django_db
ME = "/api/v1/users/me/"


def token_queries(queries) -> int:
    return sum('"authtoken_token"' in q["sql"] for q in queries)


def test_the_second_request_reads_no_token(api, sdr, django_assert_max_num_queries):
    client = api.as_user(sdr)
    assert client.get(ME).status_code == 200
    with django_assert_max_num_queries(10) as captured:
        assert client.get(ME).status_code == 200
    assert token_queries(captured.captured_queries) == 0


def test_without_a_cache_time_every_request_reads_the_token(api, sdr, settings, django_assert_max_num_queries):
    settings.API_TOKEN_CACHE_SECONDS = 0
    client = api.as_user(sdr)
    assert client.get(ME).status_code == 200
    with django_assert_max_num_queries(10) as captured:
        assert client.get(ME).status_code == 200
    assert token_queries(captured.captured_queries) == 1


def test_a_deleted_token_is_refused_at_once(api, sdr):
    client = api.as_user(sdr)
    assert client.get(ME).status_code == 200
    Token.objects.get(user=sdr).delete()
    assert client.get(ME).status_code == 401


def test_a_deactivated_user_is_refused_at_once(api, sdr):
    client = api.as_user(sdr)
    assert client.get(ME).status_code == 200
    sdr.is_active = False
    sdr.save()
    assert client.get(ME).status_code == 401


def test_a_changed_user_is_seen_at_once(api, sdr):
    client = api.as_user(sdr)
    assert client.get(ME).json()["role"] == Role.SDR
    sdr.role = Role.OPS
    sdr.save()
    assert client.get(ME).json()["role"] == Role.OPS


def test_the_cache_holds_neither_the_token_nor_the_password_hash(api, sdr):
    client = api.as_user(sdr)
    assert client.get(ME).status_code == 200
    key = Token.objects.get(user=sdr).key
    cached = cache.get(cache_key(key))
    assert cached is not None and cached.pk == sdr.pk
    assert key not in cache_key(key)
    assert "password" not in cached.__dict__
    assert key.encode() not in pickle.dumps(cached)
    assert sdr.password.encode() not in pickle.dumps(cached)


def test_an_unknown_token_is_refused(api):
    api.credentials(HTTP_AUTHORIZATION="Token " + "0" * 40)
    assert api.get(ME).status_code == 401
