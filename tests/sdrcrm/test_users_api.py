"""Users, teams and tokens through the API (docs/rules.md §8.2, §10): ops manage users and teams,
anyone reads themselves, passwords are write-only and must be strong, and nothing but a
token or a session gets in."""

from __future__ import annotations

import pytest
from knox.crypto import hash_token

from sdrcrm.models import ApiToken, Role, Team, User
from tests.factories import PASSWORD, TeamFactory

pytestmark = pytest.mark.django_db

USERS = "/api/v1/users/"
TEAMS = "/api/v1/teams/"
TOKEN = "/api/v1/auth/token/"
STRONG = "plum-kettle-harbour-42"


def new_user(**fields) -> dict:
    return {"username": "newbie", "password": STRONG, "role": Role.SDR, **fields}


# --- Ops only -------------------------------------------------------------------------------


@pytest.mark.parametrize("user_fixture", ["sdr", "manager", "integration"])
@pytest.mark.parametrize(("method", "url"), [("get", USERS), ("post", USERS), ("get", TEAMS), ("post", TEAMS)])
def test_users_and_teams_are_for_ops_only(request, api, user_fixture, method, url):
    user = request.getfixturevalue(user_fixture)
    users, teams = User.objects.count(), Team.objects.count()

    response = getattr(api.as_user(user), method)(url, new_user(name="Hijackers"), format="json")

    assert response.status_code == 403
    assert "Ops" in response.json()["detail"]
    assert (User.objects.count(), Team.objects.count()) == (users, teams)


def test_an_sdr_may_not_edit_another_user(api, sdr, teammate):
    response = api.as_user(sdr).patch(f"{USERS}{teammate.pk}/", {"role": Role.OPS}, format="json")

    assert response.status_code == 403
    assert User.objects.get(pk=teammate.pk).role == Role.SDR


def test_an_sdr_may_not_make_themselves_ops(api, sdr):
    response = api.as_user(sdr).patch(f"{USERS}{sdr.pk}/", {"role": Role.OPS}, format="json")

    assert response.status_code == 403
    assert User.objects.get(pk=sdr.pk).role == Role.SDR


def test_ops_lists_users(api, ops, sdr, other_sdr):
    response = api.as_user(ops).get(USERS)

    assert response.status_code == 200
    assert {row["username"] for row in response.json()["results"]} == {ops.username, sdr.username, other_sdr.username}


def test_ops_creates_a_team(api, ops, manager):
    response = api.as_user(ops).post(TEAMS, {"name": "EMEA Inbound", "manager": manager.pk, "region": "emea"},
                                     format="json")

    assert response.status_code == 201
    assert Team.objects.get(name="EMEA Inbound").manager == manager


def test_ops_creates_a_user_who_can_then_log_in(api, ops, team):
    response = api.as_user(ops).post(USERS, new_user(team=team.pk), format="json")

    assert response.status_code == 201
    user = User.objects.get(username="newbie")
    assert (user.role, user.team) == (Role.SDR, team)
    assert api.post(TOKEN, {"username": "newbie", "password": STRONG}, format="json").status_code == 200


# --- users/me -------------------------------------------------------------------------------


@pytest.mark.parametrize("user_fixture", ["sdr", "manager", "ops", "integration"])
def test_anyone_reads_themselves(request, api, user_fixture):
    user = request.getfixturevalue(user_fixture)

    response = api.as_user(user).get(f"{USERS}me/")

    assert response.status_code == 200
    assert (response.json()["id"], response.json()["role"]) == (user.pk, user.role)


# --- Passwords --------------------------------------------------------------------------------


def test_the_password_is_never_in_a_response(api, ops, sdr):
    client = api.as_user(ops)
    responses = [
        client.post(USERS, new_user(), format="json"),
        client.get(f"{USERS}{sdr.pk}/"),
        client.get(USERS),
        client.patch(f"{USERS}{sdr.pk}/", {"password": STRONG}, format="json"),
        api.as_user(sdr).get(f"{USERS}me/"),
    ]

    for response in responses:
        assert response.status_code in (200, 201), response.content
        assert b"password" not in response.content
        assert STRONG.encode() not in response.content
        assert b"md5$" not in response.content and b"pbkdf2" not in response.content


def test_the_password_is_stored_hashed(api, ops):
    api.as_user(ops).post(USERS, new_user(), format="json")

    stored = User.objects.get(username="newbie").password
    assert stored != STRONG and STRONG not in stored


@pytest.mark.parametrize(
    "password",
    ["short1", "12345678901", "password123", "newbie1234", ""],
    ids=["too short", "numeric", "common", "like the username", "blank"],
)
def test_a_new_user_with_a_weak_password_is_refused(api, ops, password):
    users = User.objects.count()

    response = api.as_user(ops).post(USERS, new_user(password=password), format="json")

    assert response.status_code == 400
    assert response.json()["detail"]
    assert "password" in response.json()["errors"]
    assert User.objects.count() == users


def test_a_new_user_needs_a_password(api, ops):
    response = api.as_user(ops).post(USERS, {"username": "newbie", "role": Role.SDR}, format="json")

    assert response.status_code == 400
    assert "password" in response.json()["errors"]
    assert not User.objects.filter(username="newbie").exists()


def test_changing_to_a_weak_password_is_refused_and_keeps_the_old_one(api, ops, sdr):
    response = api.as_user(ops).patch(f"{USERS}{sdr.pk}/", {"password": "12345678"}, format="json")

    assert response.status_code == 400
    assert "password" in response.json()["errors"]
    assert User.objects.get(pk=sdr.pk).check_password(PASSWORD)


def test_changing_the_password_replaces_the_old_one(api, ops, sdr):
    response = api.as_user(ops).patch(f"{USERS}{sdr.pk}/", {"password": STRONG}, format="json")

    assert response.status_code == 200
    user = User.objects.get(pk=sdr.pk)
    assert user.check_password(STRONG) and not user.check_password(PASSWORD)


# --- Bad input ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("fields", "field"),
    [
        ({"role": "overlord"}, "role"),
        ({"team": 999999}, "team"),
        ({"team": "abc"}, "team"),
        ({"manager": 999999}, "manager"),
        ({"username": "new\x00bie"}, "username"),
        ({"username": "x" * 151}, "username"),
        ({"monthly_sao_quota": -1}, "monthly_sao_quota"),
        ({"monthly_iacv_quota": "NaN"}, "monthly_iacv_quota"),
        ({"ramp_start_date": "someday"}, "ramp_start_date"),
        ({"password": "x" * 129}, "password"),
    ],
    ids=["role", "unknown team", "team as words", "unknown manager", "NUL in username", "long username",
         "negative quota", "NaN quota", "bad date", "long password"],
)
def test_a_user_with_a_bad_field_is_refused_naming_it(api, ops, fields, field):
    users = User.objects.count()

    response = api.as_user(ops).post(USERS, new_user(**fields), format="json")

    assert response.status_code == 400
    assert response.json()["detail"]
    assert field in response.json()["errors"]
    assert User.objects.count() == users


def test_a_taken_username_is_refused(api, ops, sdr):
    response = api.as_user(ops).post(USERS, new_user(username=sdr.username), format="json")

    assert response.status_code == 400
    assert "username" in response.json()["errors"]
    assert User.objects.filter(username=sdr.username).count() == 1


def test_a_user_cannot_be_their_own_manager(api, ops, sdr):
    response = api.as_user(ops).patch(f"{USERS}{sdr.pk}/", {"manager": sdr.pk}, format="json")

    assert response.status_code == 400
    assert "manager" in response.json()["errors"]
    assert User.objects.get(pk=sdr.pk).manager is None


def test_a_duplicate_team_name_is_refused(api, ops):
    TeamFactory(name="AMER Inbound")

    response = api.as_user(ops).post(TEAMS, {"name": "AMER Inbound"}, format="json")

    assert response.status_code == 400
    assert "name" in response.json()["errors"]
    assert Team.objects.filter(name="AMER Inbound").count() == 1


@pytest.mark.parametrize("body", ['{"username": ', "[]", '"newbie"'], ids=["malformed", "array", "string"])
def test_a_user_body_that_is_not_a_json_object_is_refused(api, ops, body):
    users = User.objects.count()

    response = api.as_user(ops).post(USERS, body, content_type="application/json")

    assert response.status_code == 400
    assert response.json()["detail"]
    assert User.objects.count() == users


@pytest.mark.parametrize(
    ("query", "field"),
    [("ordering=password", "ordering"), ("role=overlord", "role"), ("team=abc", "team"),
     ("team=99999999999999999999999", "team"), ("page_size=0", "page_size"), ("cursor=garbage", "cursor")],
    ids=["ordering by password", "unknown role", "team as words", "team beyond bigint", "page size 0",
         "garbage cursor"],
)
def test_a_bad_user_list_filter_is_refused_naming_it(api, ops, query, field):
    response = api.as_user(ops).get(f"{USERS}?{query}")

    assert response.status_code == 400
    assert response.json()["detail"]
    assert field in response.json()["errors"]


@pytest.mark.parametrize("pk", ["999999", "abc", "1%00"])
def test_reading_an_unknown_user_is_404(api, ops, pk):
    response = api.as_user(ops).get(f"{USERS}{pk}/")

    assert response.status_code == 404
    assert response.json()["detail"]


# --- Authentication ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("method", "url"),
    [("get", f"{USERS}me/"), ("get", USERS), ("get", "/api/v1/leads/"), ("post", "/api/v1/leads/"),
     ("get", "/api/v1/leads/1/"), ("post", "/api/v1/activities/"), ("get", "/api/v1/contacts/")],
)
def test_requests_without_credentials_answer_401(api, method, url):
    response = getattr(api, method)(url, {}, format="json")

    assert response.status_code == 401
    assert response.json()["detail"]


def test_a_request_with_an_unknown_token_answers_401(api, sdr):
    api.credentials(HTTP_AUTHORIZATION="Token " + "0" * 40)

    response = api.get(f"{USERS}me/")

    assert response.status_code == 401
    assert response.json()["detail"]


def test_good_credentials_get_a_token_that_authenticates(api, sdr):
    response = api.post(TOKEN, {"username": sdr.username, "password": PASSWORD}, format="json")

    assert response.status_code == 200
    token = response.json()["token"]
    assert ApiToken.objects.get(user=sdr).digest == hash_token(token)  # stored as its hash only
    api.credentials(HTTP_AUTHORIZATION=f"Token {token}")
    assert api.get(f"{USERS}me/").json()["username"] == sdr.username


@pytest.mark.parametrize(
    "credentials",
    [
        {"username": "{sdr}", "password": "wrong-password-1"},
        {"username": "nobody", "password": PASSWORD},
        {"username": "{sdr}"},
        {"password": PASSWORD},
        {"username": "{sdr}\x00", "password": PASSWORD},
    ],
    ids=["wrong password", "unknown user", "no password", "no username", "NUL in username"],
)
def test_bad_credentials_get_no_token(api, sdr, credentials):
    body = {key: value.replace("{sdr}", sdr.username) for key, value in credentials.items()}

    response = api.post(TOKEN, body, format="json")

    assert response.status_code == 400
    assert response.json()["detail"]
    assert "token" not in response.json()
    assert not ApiToken.objects.exists()


def test_an_inactive_user_gets_no_token(api, sdr):
    sdr.is_active = False
    sdr.save()

    response = api.post(TOKEN, {"username": sdr.username, "password": PASSWORD}, format="json")

    assert response.status_code == 400
    assert not ApiToken.objects.exists()


@pytest.mark.parametrize("body", ['{"username": ', "[]"], ids=["malformed", "array"])
def test_a_token_request_that_is_not_a_json_object_is_refused(api, body):
    response = api.post(TOKEN, body, content_type="application/json")

    assert response.status_code == 400
    assert response.json()["detail"]
