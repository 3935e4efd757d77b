"""API tokens and their users are cached between requests (sdrcrm/authentication.py),
and every change to the token or the user is seen by the next request."""

from __future__ import annotations

import os
import pickle
import subprocess
import sys

import pytest
from django.conf import settings as django_settings
from django.core.cache import cache
from django.test import RequestFactory
from knox.auth import TokenAuthentication
from rest_framework import exceptions
from rest_framework.request import Request

from sdrcrm.authentication import CachedTokenAuthentication, cache_key
from sdrcrm.models import ApiToken, Role

pytestmark = pytest.mark.django_db
ME = "/api/v1/users/me/"


def token_queries(queries) -> int:
    return sum('"sdrcrm_apitoken"' in q["sql"] for q in queries)


@pytest.fixture(autouse=True)
def cache_on(settings):
    """On whatever cache the suite runs with (it is off by default without Redis)."""
    settings.API_TOKEN_CACHE_SECONDS = 60


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
    ApiToken.objects.get(user=sdr).delete()
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
    token = ApiToken.objects.get(user=sdr)
    key = api._credentials["HTTP_AUTHORIZATION"].split()[1]
    cached = cache.get(cache_key(token.digest))
    assert cached is not None and cached[0].pk == sdr.pk and cached[1] == token.expiry
    assert key not in cache_key(token.digest)  # keyed by the token's hash
    assert "password" not in cached[0].__dict__
    assert key.encode() not in pickle.dumps(cached)
    assert sdr.password.encode() not in pickle.dumps(cached)


def test_an_unknown_token_is_refused(api):
    api.credentials(HTTP_AUTHORIZATION="Token " + "0" * 64)
    assert api.get(ME).status_code == 401


def configured_cache_seconds(redis_url: str) -> str:
    """API_TOKEN_CACHE_SECONDS as the settings work it out from this environment."""
    env = {k: v for k, v in os.environ.items() if k != "API_TOKEN_CACHE_SECONDS"}
    env.update(REDIS_URL=redis_url, DJANGO_SETTINGS_MODULE="sdrcrm.settings")
    result = subprocess.run(
        [sys.executable, "-c", "from django.conf import settings; print(settings.API_TOKEN_CACHE_SECONDS)"],
        cwd=django_settings.BASE_DIR, env=env, capture_output=True, text=True, timeout=60, check=True)
    return result.stdout.strip()


def test_the_cache_is_on_with_redis_and_without_it():
    assert configured_cache_seconds("redis://127.0.0.1:6379/9") == "60"
    assert configured_cache_seconds("") == "60"


def in_another_process(code: str) -> str:
    """Run `code` in a new Python with this suite's settings (its cache included)."""
    env = {**os.environ, "DJANGO_SETTINGS_MODULE": "sdrcrm.settings"}
    result = subprocess.run(
        [sys.executable, "-c", f"import django; django.setup(); from django.core.cache import cache; {code}"],
        cwd=django_settings.BASE_DIR, env=env, capture_output=True, text=True, timeout=60, check=True)
    return result.stdout.strip()


def test_a_revocation_in_one_process_is_seen_by_every_other():
    # Web, worker and beat are separate processes: a token dropped by one (a signal's
    # cache.delete) must be gone for all, on Redis and on the embedded default's files.
    cache.set("shared-probe", "cached here", 60)
    assert in_another_process("print(cache.get('shared-probe'))") == "cached here"
    in_another_process("cache.delete('shared-probe')")
    assert cache.get("shared-probe") is None


def test_the_header_is_read_as_knox_reads_it(sdr):
    """CachedTokenAuthentication.knox_authenticate reads the header from META; every kind
    of header gets what knox's own authenticate gives."""
    key = ApiToken.objects.create(user=sdr, name="compare")[1]

    def outcome(authenticate, header):
        request = Request(RequestFactory().get("/", **({} if header is None else {"HTTP_AUTHORIZATION": header})))
        try:
            found = authenticate(request)
        except exceptions.AuthenticationFailed as failed:
            return "refused", str(failed.detail)
        return None if found is None else (found[0].pk, found[1].digest)

    headers = [None, "", "Token", "Token  ", f"Token {key}", f"token {key}", f"TOKEN {key}", f"Token {key} extra",
               f"Bearer {key}", "Token not-a-token", "Tokenish abc", "Basic dXNlcjpwYXNz", f"  Token   {key}  "]
    for header in headers:
        ours = outcome(CachedTokenAuthentication().knox_authenticate, header)
        knox = outcome(lambda request: TokenAuthentication.authenticate(CachedTokenAuthentication(), request), header)
        assert ours == knox, header
    assert outcome(CachedTokenAuthentication().knox_authenticate, f"Token {key}")[0] == sdr.pk
    assert outcome(CachedTokenAuthentication().knox_authenticate, "Token")[0] == "refused"
