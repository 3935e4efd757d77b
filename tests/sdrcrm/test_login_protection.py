"""Login protection (sdrcrm/auth.py) that cannot be turned against users: a growing delay
per (username, address) instead of an account lock anyone can trigger, throttles per
address and per username on the form and the token endpoint, the same password work on
every failure, and bad API tokens counted per address."""

from __future__ import annotations

import pytest
from django.contrib.auth.hashers import MD5PasswordHasher
from django.urls import reverse

from sdrcrm import auth
from sdrcrm.models import ApiToken
from tests.factories import PASSWORD, UserFactory

pytestmark = pytest.mark.django_db
TOKEN = "/api/v1/auth/token/"
ME = "/api/v1/users/me/"


@pytest.fixture(autouse=True)
def fresh_counters(settings):
    """Counters of this test's own (the cache outlives a test); few free failures."""
    from django.core.cache import cache

    cache.clear()
    settings.LOGIN_FREE_FAILURES = 3
    yield
    cache.clear()


@pytest.fixture
def clock(monkeypatch):
    """sdrcrm.auth's clock, moved by hand."""
    now = [1_800_000_000.0]
    monkeypatch.setattr(auth.time, "time", lambda: now[0])
    return now


def login(client, username, password, address="10.0.0.1"):
    return client.post(reverse("login"), {"username": username, "password": password}, REMOTE_ADDR=address)


def logged_in(client) -> bool:
    return "_auth_user_id" in client.session


def test_the_delay_doubles_after_the_free_failures_up_to_the_maximum(settings):
    settings.LOGIN_MAX_DELAY_SECONDS = 60
    assert [auth.delay_after(n) for n in range(3, 11)] == [1, 2, 4, 8, 16, 32, 60, 60]
    assert auth.delay_after(2) == 0


def test_after_the_free_failures_even_the_right_password_waits_then_succeeds(client, clock):
    user = UserFactory()
    for _ in range(3):
        assert "Wrong username or password." in login(client, user.username, "wrong").content.decode()

    refused = login(client, user.username, PASSWORD)
    assert "Too many tries; try again in 1 second." in refused.content.decode() and not logged_in(client)

    clock[0] += 1
    login(client, user.username, PASSWORD)
    assert logged_in(client)


def test_each_further_failure_doubles_the_wait(client, clock):
    user = UserFactory()
    for _ in range(3):
        login(client, user.username, "wrong")
    clock[0] += 1
    login(client, user.username, "wrong")  # the fourth failure: 2 s
    clock[0] += 1
    assert "try again in 1 second" in login(client, user.username, PASSWORD).content.decode()
    clock[0] += 1
    login(client, user.username, PASSWORD)
    assert logged_in(client)


def test_nobody_can_lock_a_colleague_out_from_another_address(client, clock):
    user = UserFactory()
    for _ in range(10):
        login(client, user.username, "wrong", address="203.0.113.9")  # someone else, elsewhere

    login(client, user.username, PASSWORD, address="10.0.0.1")

    assert logged_in(client)


def test_a_success_clears_the_failures(client, clock):
    user = UserFactory()
    for _ in range(2):
        login(client, user.username, "wrong")
    login(client, user.username, PASSWORD)
    client.logout()

    for _ in range(2):
        login(client, user.username, "wrong")
    login(client, user.username, PASSWORD)  # 2 failures since the success: still free

    assert logged_in(client)


def test_the_token_endpoint_answers_429_with_retry_after_while_a_pair_waits(api, clock):
    user = UserFactory()
    for _ in range(3):
        assert api.post(TOKEN, {"username": user.username, "password": "wrong"},
                        format="json").status_code == 400

    response = api.post(TOKEN, {"username": user.username, "password": PASSWORD}, format="json")

    assert response.status_code == 429 and response["Retry-After"] == "1"
    assert "token" not in response.json() and "Too many tries" in response.json()["detail"]
    assert not ApiToken.objects.exists()


def test_an_address_trying_many_usernames_is_throttled(api, settings):
    settings.LOGIN_ADDRESS_RATE = "5/minute"
    users = UserFactory.create_batch(6)
    answers = [api.post(TOKEN, {"username": u.username, "password": "wrong"}, format="json").status_code
               for u in users]
    assert answers == [400] * 5 + [429]


def test_one_username_tried_from_many_addresses_is_throttled(client, settings):
    settings.LOGIN_USERNAME_RATE = "4/minute"
    user = UserFactory()
    for n in range(4):
        login(client, user.username, "wrong", address=f"198.51.100.{n}")

    response = login(client, user.username, PASSWORD, address="198.51.100.200")

    assert "Too many tries" in response.content.decode() and not logged_in(client)


@pytest.fixture
def hashing(monkeypatch):
    """How many passwords the hasher hashes (the tests' MD5 hasher; verifying one hashes it
    with the stored salt, as every Django hasher does)."""
    calls = []
    original = MD5PasswordHasher.encode
    monkeypatch.setattr(MD5PasswordHasher, "encode",
                        lambda self, *args: calls.append(args[0]) or original(self, *args))
    return calls


@pytest.mark.parametrize("case", ["unknown user", "wrong password", "waiting pair"])
def test_every_failure_costs_one_password_hash_so_timing_tells_nothing(client, clock, hashing, case):
    user = UserFactory()
    username, password = (("nobody-here", "x") if case == "unknown user" else (user.username, "wrong"))
    if case == "waiting pair":
        for _ in range(3):
            login(client, user.username, "wrong")
        password = PASSWORD
    hashing.clear()

    response = login(client, username, password)

    assert not logged_in(client) and response.status_code == 200
    assert hashing == [password]


def test_bad_tokens_are_counted_per_address(api, settings):
    settings.API_ANON_THROTTLE_RATE = "3/minute"
    api.credentials(HTTP_AUTHORIZATION="Token " + "0" * 64)

    answers = [api.get(ME).status_code for _ in range(4)]

    assert answers == [401, 401, 401, 429]
