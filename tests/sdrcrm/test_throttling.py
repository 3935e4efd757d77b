from __future__ import annotations

import pickle
import threading
import types
import uuid

import pytest
from django.core.cache import cache, caches
from redis.connection import AbstractConnection, Connection
from redis.exceptions import ConnectionError as RedisConnectionError

from sdrcrm import authentication, throttling
from sdrcrm.models import Role, User
from sdrcrm.throttling import parse_rate
from tests.conftest import require

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def private_cache(settings):
    # Counters in a cache of this module's own, never the shared one (Redis in CI, which
    # the broker uses too).
    settings.CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache",
                                   "LOCATION": "throttle-tests"}}
    cache.clear()


@pytest.fixture(autouse=True)
def mid_window(monkeypatch):
    # Every request of a test falls in one window: a real clock crossing a minute
    # boundary between two requests would reset the counter (a flaky 200 for a 429).
    monkeypatch.setattr("sdrcrm.throttling.time", types.SimpleNamespace(time=lambda: 1_800_000_030.0))


def test_a_user_over_the_rate_gets_429_with_retry_after(api, sdr, settings):
    settings.API_THROTTLE_RATE = "3/minute"
    client = api.as_user(sdr)
    codes = [client.get("/api/v1/leads/").status_code for _ in range(4)]
    assert codes == [200, 200, 200, 429]
    response = client.get("/api/v1/leads/")
    assert response.status_code == 429 and "detail" in response.json()
    assert int(response["Retry-After"]) == 30  # the rest of the window


def test_each_user_has_their_own_counter(api, sdr, other_sdr, settings):
    settings.API_THROTTLE_RATE = "1/minute"
    assert api.as_user(sdr).get("/api/v1/leads/").status_code == 200
    assert api.as_user(other_sdr).get("/api/v1/leads/").status_code == 200
    assert api.as_user(sdr).get("/api/v1/leads/").status_code == 429


def test_integrations_have_their_own_rate(api, integration, settings):
    settings.API_THROTTLE_RATE = "1/minute"
    settings.API_INTEGRATION_THROTTLE_RATE = "5/minute"
    client = api.as_user(integration)
    assert [client.get("/api/v1/leads/").status_code for _ in range(6)] == [200] * 5 + [429]


@pytest.mark.parametrize(("rate", "parsed"), [("600/minute", (600, 60)), ("10/s", (10, 1)), ("5/hour", (5, 3600)),
                                               ("1/day", (1, 86400))])
def test_rates_parse(rate, parsed):
    assert parse_rate(rate) == parsed


def test_on_redis_the_counter_takes_one_round_trip_and_expires(api, sdr, settings):
    require(bool(settings.REDIS_URL), "CI must test the Redis throttle: set REDIS_URL",
            "needs REDIS_URL=redis://… (CI sets it)")
    settings.CACHES = {"default": {"BACKEND": "django.core.cache.backends.redis.RedisCache",
                                   "LOCATION": settings.REDIS_URL, "KEY_PREFIX": f"throttle-test-{uuid.uuid4().hex}"}}
    settings.API_THROTTLE_RATE = "3/minute"
    client = api.as_user(sdr)
    assert [client.get("/api/v1/leads/").status_code for _ in range(4)] == [200, 200, 200, 429]
    backend = caches["default"]
    redis = backend._cache.get_client(write=False)
    keys = redis.keys(f"{backend.key_prefix}:*:throttle:*")
    assert len(keys) == 1 and int(redis.get(keys[0])) == 4
    assert 0 < redis.ttl(keys[0]) <= 61  # the window's counter does not outlive it
    redis.delete(*redis.keys(f"{backend.key_prefix}*"))


@pytest.fixture
def on_redis(settings, monkeypatch):
    """The cache on a Redis database of this test's own keys; yields a counter of the
    round trips made to Redis (a pipeline is one)."""
    require(bool(settings.REDIS_URL), "CI must test the Redis throttle: set REDIS_URL",
            "needs REDIS_URL=redis://… (CI sets it)")
    settings.CACHES = {"default": {"BACKEND": "django.core.cache.backends.redis.RedisCache",
                                   "LOCATION": settings.REDIS_URL, "KEY_PREFIX": f"throttle-test-{uuid.uuid4().hex}"}}
    settings.API_TOKEN_CACHE_SECONDS = 60
    trips = [0]
    send = AbstractConnection.send_packed_command

    def counted(self, *args, **kwargs):
        trips[0] += 1
        return send(self, *args, **kwargs)

    monkeypatch.setattr(AbstractConnection, "send_packed_command", counted)
    yield trips
    backend = caches["default"]
    redis = backend._cache.get_client(write=True)
    redis.delete(*redis.keys(f"{backend.key_prefix}*"))


def counters(ident: str) -> dict[str, int]:
    backend = caches["default"]
    redis = backend._cache.get_client(write=False)
    return {key.decode().rsplit(":", 1)[1]: int(redis.get(key))
            for key in redis.keys(f"{backend.key_prefix}:*:throttle:{ident}:*")}


def test_on_redis_a_known_tokens_user_and_throttle_take_one_round_trip(api, sdr, settings, on_redis):
    settings.API_THROTTLE_RATE = "4/minute"
    client = api.as_user(sdr)
    assert client.get("/api/v1/users/me/").status_code == 200  # the user read from the database, then cached
    assert client.get("/api/v1/users/me/").status_code == 200  # this thread's connection made (its handshake)
    on_redis[0] = 0
    assert [client.get("/api/v1/users/me/").status_code for _ in range(3)] == [200, 200, 429]
    assert on_redis[0] == 3  # was 6: the token's user, then the throttle's counter
    assert list(counters(f"user:{sdr.pk}").values()) == [5]  # each request counted once


def test_a_user_whose_rate_changed_is_counted_once_in_the_new_window(api, sdr, settings, on_redis):
    settings.API_THROTTLE_RATE = "2/minute"
    settings.API_INTEGRATION_THROTTLE_RATE = "100/hour"
    client = api.as_user(sdr)
    assert [client.get("/api/v1/users/me/").status_code for _ in range(2)] == [200, 200]
    sdr.role = Role.INTEGRATION  # this process still takes the token for an SDR's
    sdr.save()
    assert client.get("/api/v1/users/me/").status_code == 200  # 3 in the minute would be 429
    minute, hour = 1_800_000_030 // 60, 1_800_000_030 // 3600
    assert counters(f"user:{sdr.pk}") == {str(minute): 3, str(hour): 1}  # counted in the minute, as it read
    assert client.get("/api/v1/users/me/").status_code == 200
    assert counters(f"user:{sdr.pk}") == {str(minute): 3, str(hour): 2}


def test_an_answer_cut_off_midway_drops_its_connection_and_the_request_is_served(api, sdr, settings, on_redis,
                                                                                   monkeypatch):
    settings.API_THROTTLE_RATE = "10/minute"
    client = api.as_user(sdr)
    assert client.get("/api/v1/users/me/").status_code == 200  # the user cached
    assert client.get("/api/v1/users/me/").status_code == 200  # this thread's connection made (its handshake)
    read = AbstractConnection.read_response
    replies = [0]

    def cut_off(self, *args, **kwargs):
        replies[0] += 1
        if replies[0] == 2:  # the user's reply read, the counter's lost on the way
            raise RedisConnectionError("connection reset")
        return read(self, *args, **kwargs)

    monkeypatch.setattr(AbstractConnection, "read_response", cut_off)
    assert client.get("/api/v1/users/me/").status_code == 200  # read and counted apart

    # The connection was left with two unread replies: no later request reads the
    # counter's reply as its user (it is dropped, and redis-py checks a connection it
    # hands out for unread data too).
    for _ in range(3):
        response = client.get("/api/v1/users/me/")
        assert response.status_code == 200 and response.json()["id"] == sdr.pk
    assert list(counters(f"user:{sdr.pk}").values()) == [7]  # 6 requests; the cut-off one counted twice


def test_each_thread_and_process_keeps_a_connection_of_its_own(on_redis, monkeypatch):
    """read_and_count's connection is made once a thread, out of the pool: a request
    borrows and returns nothing."""
    assert throttling.read_and_count("nothing", "user:0", "5/minute")[1].count == 1
    pool = caches["default"]._cache._get_connection_pool(write=True)
    mine = throttling._own_connection(pool)
    assert mine.is_connected and throttling._own_connection(pool) is mine  # the exchange's
    assert mine not in pool._available_connections and mine not in pool._in_use_connections
    theirs: list[object] = []
    thread = threading.Thread(target=lambda: theirs.append(throttling._own_connection(pool)))
    thread.start()
    thread.join()
    assert theirs[0] is not mine
    monkeypatch.setattr(throttling.os, "getpid", lambda: -1)  # a forked worker
    assert throttling._own_connection(pool) is not mine


def test_on_redis_a_tokens_user_is_decoded_once_while_its_cache_entry_is_unchanged(api, sdr, on_redis, monkeypatch):
    decodes = []
    monkeypatch.setattr(authentication, "stored_value", lambda stored: decodes.append(stored) or pickle.loads(stored))
    monkeypatch.setattr(authentication, "_decoded", {})
    client = api.as_user(sdr)
    assert client.get("/api/v1/users/me/").status_code == 200  # read from the database, then cached
    assert [client.get("/api/v1/users/me/").json()["role"] for _ in range(3)] == [Role.SDR] * 3
    assert len(decodes) == 1
    sdr.role = Role.OPS
    sdr.save()  # its cache entry dropped: the next request reads the user and caches it again
    assert [client.get("/api/v1/users/me/").json()["role"] for _ in range(2)] == [Role.OPS] * 2
    assert len(decodes) == 2 and decodes[0] != decodes[1]


def test_each_request_gets_a_user_of_its_own(sdr, monkeypatch):
    monkeypatch.setattr(authentication, "stored_value", pickle.loads)  # as the Redis cache's serializer
    stored = pickle.dumps((User.objects.get(pk=sdr.pk), None))
    first, expiry = authentication.decoded("digest", stored)
    first.first_name = "Changed by a request"
    second, _ = authentication.decoded("digest", stored)
    assert second is not first and second._state is not first._state and expiry is None
    assert second.first_name == sdr.first_name and second.pk == sdr.pk


@pytest.mark.parametrize("commands", [
    [("GET", ":1:api-token:" + "ab" * 64), ("INCR", ":1:throttle:user:5:30000"),
     ("EXPIRE", ":1:throttle:user:5:30000", 61)],
    [("GET", "")], [("INCR", "clé-é")], [("EXPIRE", "k", 0), ("EXPIRE", "k", 86401)],
])
def test_the_commands_are_packed_as_redis_py_packs_them(commands):
    assert throttling.packed(*commands) == b"".join(Connection().pack_commands(commands))
