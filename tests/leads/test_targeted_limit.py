"""The targeted flag on accounts (docs/rules.md §8.1, §5): an SDR targets at most 40 accounts at a
time, counted per SDR, exactly even when two requests race; flagging records who and
when, unflagging clears both."""

from __future__ import annotations

import threading
import time
from datetime import UTC, datetime

import pytest
from django.db import connection, transaction

from leads import accounts
from leads.accounts import set_targeted, targeted_count
from leads.models import Account
from sdrcrm.errors import Refused
from sdrcrm.models import Role
from tests.conftest import on_postgres, require
from tests.factories import AccountFactory, UserFactory

ACCOUNTS = "/api/v1/accounts/"
NOW = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
LIMIT_MESSAGE = "You already target 40 accounts; unflag one before targeting another."


def targeting(user, count: int) -> list[Account]:
    """`count` accounts flagged by `user` (and assigned to them, so they may edit them)."""
    return Account.objects.bulk_create([
        Account(name=f"Target {user.pk}-{i}", targeted=True, targeted_by=user, targeted_at=NOW, bdr_assigned=user)
        for i in range(count)
    ])


# --- The service ------------------------------------------------------------------------------

@pytest.mark.django_db
def test_flagging_records_who_and_when(sdr):
    account = AccountFactory()

    assert set_targeted(account, True, by=sdr, now=NOW) is True

    account.refresh_from_db()
    assert (account.targeted, account.targeted_by, account.targeted_at) == (True, sdr, NOW)


@pytest.mark.django_db
def test_the_fortieth_account_may_be_flagged(sdr):
    targeting(sdr, 39)
    account = AccountFactory()

    set_targeted(account, True, by=sdr, now=NOW)

    assert targeted_count(sdr) == 40
    account.refresh_from_db()
    assert account.targeted_by == sdr


@pytest.mark.django_db
def test_the_forty_first_account_is_refused_and_left_unflagged(sdr):
    targeting(sdr, 40)
    account = AccountFactory()

    with pytest.raises(Refused) as refused:
        set_targeted(account, True, by=sdr, now=NOW)

    assert refused.value.message == LIMIT_MESSAGE
    assert refused.value.field == "targeted"
    account.refresh_from_db()
    assert (account.targeted, account.targeted_by, account.targeted_at) == (False, None, None)


@pytest.mark.django_db
def test_unflagging_clears_who_and_when(sdr):
    account = AccountFactory(targeted=True, targeted_by=sdr, targeted_at=NOW)

    assert set_targeted(account, False, by=sdr, now=NOW) is True

    account.refresh_from_db()
    assert (account.targeted, account.targeted_by, account.targeted_at) == (False, None, None)


@pytest.mark.django_db
def test_unflagging_one_makes_room_for_another(sdr):
    first, *_ = targeting(sdr, 40)
    account = AccountFactory()

    set_targeted(first, False, by=sdr, now=NOW)
    set_targeted(account, True, by=sdr, now=NOW)

    assert targeted_count(sdr) == 40
    account.refresh_from_db()
    assert account.targeted is True


@pytest.mark.django_db
def test_the_limit_is_counted_per_sdr(sdr, other_sdr):
    targeting(other_sdr, 40)
    account = AccountFactory()

    set_targeted(account, True, by=sdr, now=NOW)

    assert (targeted_count(sdr), targeted_count(other_sdr)) == (1, 40)


@pytest.mark.django_db
def test_accounts_the_quiet_days_job_unflagged_no_longer_count(sdr):
    # The job sets targeted=False and keeps targeted_by as the record of the last flag.
    targeting(sdr, 40)
    Account.objects.filter(targeted_by=sdr).update(targeted=False)
    account = AccountFactory()

    set_targeted(account, True, by=sdr, now=NOW)

    assert targeted_count(sdr) == 1


@pytest.mark.django_db
def test_flagging_an_already_targeted_account_keeps_the_first_flag(sdr, other_sdr):
    account = AccountFactory(targeted=True, targeted_by=other_sdr, targeted_at=NOW)

    assert set_targeted(account, True, by=sdr, now=datetime(2026, 4, 1, tzinfo=UTC)) is False

    account.refresh_from_db()
    assert (account.targeted_by, account.targeted_at) == (other_sdr, NOW)


@pytest.mark.django_db
def test_flagging_needs_a_person():
    account = AccountFactory()

    with pytest.raises(Refused):
        set_targeted(account, True, by=None, now=NOW)

    account.refresh_from_db()
    assert account.targeted is False


@pytest.mark.django_db
def test_save_account_routes_the_flag_through_the_limit(sdr):
    targeting(sdr, 40)
    account = AccountFactory(name="Before")

    with pytest.raises(Refused):
        accounts.save_account(account, {"name": "After", "targeted": True}, by=sdr)

    # The refusal rolls the whole save back.
    assert Account.objects.get(pk=account.pk).name == "Before"


# --- Through the API --------------------------------------------------------------------------

@pytest.mark.django_db
def test_an_sdr_flags_an_account_through_the_api(api, sdr):
    account = AccountFactory(bdr_assigned=sdr)

    response = api.as_user(sdr).patch(f"{ACCOUNTS}{account.pk}/", {"targeted": True}, format="json")

    assert response.status_code == 200, response.content
    body = response.json()
    assert (body["targeted"], body["targeted_by"]) == (True, sdr.pk)
    assert body["targeted_at"] is not None


@pytest.mark.django_db
def test_the_forty_first_flag_through_the_api_is_a_400_with_the_message(api, sdr):
    targeting(sdr, 39)
    fortieth, forty_first = AccountFactory(bdr_assigned=sdr), AccountFactory(bdr_assigned=sdr)
    client = api.as_user(sdr)

    assert client.patch(f"{ACCOUNTS}{fortieth.pk}/", {"targeted": True}, format="json").status_code == 200
    response = client.patch(f"{ACCOUNTS}{forty_first.pk}/", {"targeted": True}, format="json")

    assert response.status_code == 400
    assert response.json() == {"detail": LIMIT_MESSAGE, "errors": {"targeted": [LIMIT_MESSAGE]}}
    forty_first.refresh_from_db()
    assert forty_first.targeted is False


@pytest.mark.django_db
def test_unflag_then_flag_again_through_the_api(api, sdr):
    flagged = targeting(sdr, 40)
    account = AccountFactory(bdr_assigned=sdr)
    client = api.as_user(sdr)

    unflag = client.patch(f"{ACCOUNTS}{flagged[0].pk}/", {"targeted": False}, format="json")
    flag = client.patch(f"{ACCOUNTS}{account.pk}/", {"targeted": True}, format="json")

    assert unflag.status_code == 200
    assert (unflag.json()["targeted"], unflag.json()["targeted_by"], unflag.json()["targeted_at"]) == (
        False, None, None)
    assert flag.status_code == 200, flag.content
    assert targeted_count(sdr) == 40


@pytest.mark.django_db
def test_clients_cannot_name_someone_else_as_the_flagger(api, sdr, other_sdr):
    account = AccountFactory(bdr_assigned=sdr)

    response = api.as_user(sdr).patch(
        f"{ACCOUNTS}{account.pk}/", {"targeted": True, "targeted_by": other_sdr.pk, "targeted_at": "2020-01-01T00:00Z"},
        format="json")

    assert response.status_code == 200
    account.refresh_from_db()
    assert account.targeted_by == sdr
    assert account.targeted_at.year != 2020


@pytest.mark.django_db
def test_creating_a_targeted_account_flags_it_for_its_creator(api, ops):
    response = api.as_user(ops).post(ACCOUNTS, {"name": "Hooli", "targeted": True}, format="json")

    assert response.status_code == 201, response.content
    assert (response.json()["targeted"], response.json()["targeted_by"]) == (True, ops.pk)


@pytest.mark.django_db
def test_a_refused_create_writes_no_account(api, sdr, ops):
    targeting(ops, 40)

    response = api.as_user(ops).post(ACCOUNTS, {"name": "One Too Many", "targeted": True}, format="json")

    assert response.status_code == 400
    assert not Account.objects.filter(name="One Too Many").exists()


@pytest.mark.django_db
@pytest.mark.parametrize("value", ["perhaps", [True], {"a": 1}, 2])
def test_a_targeted_value_that_is_not_a_boolean_is_a_400(api, sdr, value):
    account = AccountFactory(bdr_assigned=sdr)

    response = api.as_user(sdr).patch(f"{ACCOUNTS}{account.pk}/", {"targeted": value}, format="json")

    assert response.status_code == 400
    assert "targeted" in response.json()["errors"]


@pytest.mark.django_db
def test_an_sdr_may_not_flag_an_account_assigned_to_someone_else(api, sdr, other_sdr):
    account = AccountFactory(bdr_assigned=other_sdr)

    response = api.as_user(sdr).patch(f"{ACCOUNTS}{account.pk}/", {"targeted": True}, format="json")

    assert response.status_code == 403
    account.refresh_from_db()
    assert account.targeted is False


# --- Concurrency ------------------------------------------------------------------------------

@pytest.mark.django_db(transaction=True)
def test_a_second_flag_waits_for_the_first_and_then_counts_it():
    """The 40th and a 41st flag of one SDR at the same moment: the second blocks on the
    SDR's row until the first commits, then sees 40 and is refused."""
    require(on_postgres(), "CI must run on PostgreSQL", "row locks need PostgreSQL")
    sdr = UserFactory(role=Role.SDR)
    targeting(sdr, 39)
    first, second = AccountFactory(), AccountFactory()
    outcome: dict[str, object] = {}

    def flag_second() -> None:
        try:
            set_targeted(second, True, by=sdr, now=NOW)
            outcome["second"] = "flagged"
        except Refused as refused:
            outcome["second"] = refused.message
        finally:
            connection.close()

    with transaction.atomic():
        set_targeted(first, True, by=sdr, now=NOW)
        racer = threading.Thread(target=flag_second)
        racer.start()
        time.sleep(0.5)
        assert racer.is_alive(), "the second flag did not wait for the first"
    racer.join(timeout=10)

    assert outcome == {"second": LIMIT_MESSAGE}
    assert targeted_count(sdr) == 40


# --- accounts/{id}/target/: any account an SDR can read ------------------------------------

@pytest.mark.django_db
def test_an_sdr_targets_an_account_assigned_to_someone_else_through_the_target_action(api, sdr, other_sdr):
    account = AccountFactory(bdr_assigned=other_sdr)

    response = api.as_user(sdr).post(f"{ACCOUNTS}{account.pk}/target/", {"targeted": True}, format="json")

    assert response.status_code == 200, response.content
    account.refresh_from_db()
    assert (account.targeted, account.targeted_by) == (True, sdr)


@pytest.mark.django_db
def test_the_target_action_holds_the_limit(api, sdr):
    targeting(sdr, 40)
    account = AccountFactory()

    response = api.as_user(sdr).post(f"{ACCOUNTS}{account.pk}/target/", {"targeted": True}, format="json")

    assert response.status_code == 400
    assert response.json()["detail"] == LIMIT_MESSAGE
    assert Account.objects.get(pk=account.pk).targeted is False


@pytest.mark.django_db
def test_a_teammate_cannot_unflag_an_sdrs_target_through_the_target_action(api, sdr, teammate):
    account = AccountFactory()
    set_targeted(account, True, by=sdr)

    refused = api.as_user(teammate).post(f"{ACCOUNTS}{account.pk}/target/", {"targeted": False}, format="json")

    assert refused.status_code == 403
    assert Account.objects.get(pk=account.pk).targeted is True


@pytest.mark.django_db
@pytest.mark.parametrize("who", ["sdr", "manager", "ops"])
def test_the_flagger_a_manager_or_ops_unflag_through_the_target_action(api, sdr, manager, ops, who):
    account = AccountFactory()
    set_targeted(account, True, by=sdr)
    unflagger = {"sdr": sdr, "manager": manager, "ops": ops}[who]

    allowed = api.as_user(unflagger).post(f"{ACCOUNTS}{account.pk}/target/", {"targeted": False}, format="json")

    assert allowed.status_code == 200 and Account.objects.get(pk=account.pk).targeted is False


@pytest.mark.django_db
def test_a_patch_cannot_unflag_someone_elses_target_either(api, sdr, teammate):
    account = AccountFactory(bdr_assigned=teammate)  # the teammate may edit the account's fields
    set_targeted(account, True, by=sdr)

    response = api.as_user(teammate).patch(f"{ACCOUNTS}{account.pk}/", {"targeted": False}, format="json")

    assert response.status_code == 403
    assert Account.objects.get(pk=account.pk).targeted_by == sdr


@pytest.mark.django_db
def test_a_seller_cannot_flag_through_the_target_action(api):
    ae = UserFactory(role=Role.AE)
    account = AccountFactory(owner=ae)

    response = api.as_user(ae).post(f"{ACCOUNTS}{account.pk}/target/", {"targeted": True}, format="json")

    assert response.status_code == 403
    assert Account.objects.get(pk=account.pk).targeted is False


@pytest.mark.django_db
@pytest.mark.parametrize("body", [{}, {"targeted": "maybe"}, {"targeted": None}])
def test_the_target_action_needs_a_boolean(api, sdr, body):
    account = AccountFactory()
    response = api.as_user(sdr).post(f"{ACCOUNTS}{account.pk}/target/", body, format="json")
    assert response.status_code == 400 and "targeted" in response.json()["errors"]


@pytest.mark.django_db
@pytest.mark.parametrize("pk", ["999999", str(10**20)])
def test_the_target_action_on_an_unknown_account_is_404(api, sdr, pk):
    response = api.as_user(sdr).post(f"{ACCOUNTS}{pk}/target/", {"targeted": True}, format="json")
    assert response.status_code == 404


@pytest.mark.django_db
def test_a_seller_cannot_target_an_account_they_cannot_read(api):
    ae = UserFactory(role=Role.AE)
    account = AccountFactory()
    response = api.as_user(ae).post(f"{ACCOUNTS}{account.pk}/target/", {"targeted": True}, format="json")
    assert response.status_code == 404


@pytest.mark.django_db
def test_the_admin_saves_accounts_through_the_service_so_the_tier_follows(ops_client):
    account = AccountFactory(name="Adminco", using_ce=False)

    response = ops_client.post(f"/admin/leads/account/{account.pk}/change/", {
        "name": "Adminco", "domain": "adminco.com", "type": "prospect", "bdr_prospecting_status": "not_working",
        "using_ce": "on", "devops_adoption": "on", "ce_active_users": 0, "carr": "0", "country": "US",
        "segment": "unknown",
    })

    assert response.status_code == 302, response.content.decode()[:2000]
    assert Account.objects.get(pk=account.pk).tier == "C"
