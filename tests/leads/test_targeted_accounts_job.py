"""The daily targeted_accounts job (docs/rules.md §3): targeted accounts with no lead or contact
activity in 30 days are unflagged, and the SDR who flagged them is told."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from django.core.management import call_command

from leads.jobs import unflag_quiet_accounts
from leads.models import Account
from sdrcrm.jobs import run_job
from sdrcrm.models import JobRun, Notification
from tests.factories import AccountFactory, ActivityFactory, ContactFactory, LeadFactory

pytestmark = pytest.mark.django_db

NOW = datetime(2026, 12, 1, 3, 0, tzinfo=UTC)
DAY = timedelta(days=1)


def targeted(by, days_ago: int = 60, **fields) -> Account:
    return AccountFactory(targeted=True, targeted_by=by, targeted_at=NOW - days_ago * DAY, **fields)


def lead_activity(account: Account, days_ago: float) -> None:
    ActivityFactory(lead=LeadFactory(account=account), occurred_at=NOW - days_ago * DAY)


def contact_activity(account: Account, days_ago: float) -> None:
    ActivityFactory(lead=None, contact=ContactFactory(account=account), occurred_at=NOW - days_ago * DAY)


def is_targeted(account: Account) -> bool:
    return Account.objects.get(pk=account.pk).targeted


def test_a_quiet_account_is_unflagged_and_the_sdr_told(sdr):
    account = targeted(sdr, name="Globex")
    lead_activity(account, days_ago=45)

    counts = unflag_quiet_accounts(NOW)

    assert counts == {"unflagged": 1, "notified": 1}
    account.refresh_from_db()
    assert account.targeted is False
    # The last flag stays on record.
    assert (account.targeted_by, account.targeted_at) == (sdr, NOW - 60 * DAY)
    note = Notification.objects.get()
    assert (note.user, note.kind) == (sdr, "targeted_unflagged")
    assert note.message == "Account Globex was unflagged as targeted: no lead or contact activity in 30 days."


def test_an_account_without_any_activity_is_quiet(sdr):
    account = targeted(sdr)
    unflag_quiet_accounts(NOW)
    assert not is_targeted(account)


@pytest.mark.parametrize("record", [lead_activity, contact_activity])
def test_activity_29_days_ago_keeps_the_flag_and_30_days_ago_does_not(sdr, record):
    recent, old = targeted(sdr), targeted(sdr)
    record(recent, days_ago=29)
    record(old, days_ago=30)

    assert unflag_quiet_accounts(NOW) == {"unflagged": 1, "notified": 1}
    assert is_targeted(recent) and not is_targeted(old)


def test_the_latest_activity_counts_not_the_oldest(sdr):
    account = targeted(sdr)
    lead_activity(account, days_ago=200)
    contact_activity(account, days_ago=2)

    unflag_quiet_accounts(NOW)

    assert is_targeted(account)


def test_an_account_flagged_less_than_30_days_ago_keeps_the_flag(sdr):
    fresh, month = targeted(sdr, days_ago=29), targeted(sdr, days_ago=30)

    unflag_quiet_accounts(NOW)

    assert is_targeted(fresh) and not is_targeted(month)


def test_a_flag_without_a_date_counts_as_old(sdr):
    account = AccountFactory(targeted=True, targeted_by=sdr, targeted_at=None)
    unflag_quiet_accounts(NOW)
    assert not is_targeted(account)


def test_activity_on_another_accounts_people_does_not_count(sdr):
    account, other = targeted(sdr), AccountFactory()
    lead_activity(other, days_ago=1)
    ActivityFactory(occurred_at=NOW - DAY)  # a lead matched to no account

    unflag_quiet_accounts(NOW)

    assert not is_targeted(account)


def test_untargeted_accounts_are_not_touched_and_nobody_flagged_means_no_notification(sdr):
    plain = AccountFactory(targeted=False)
    orphan = targeted(None)
    before = Account.objects.get(pk=plain.pk).updated_at

    assert unflag_quiet_accounts(NOW) == {"unflagged": 1, "notified": 0}
    assert Account.objects.get(pk=plain.pk).updated_at == before
    assert not is_targeted(orphan) and not Notification.objects.exists()


def test_the_quiet_period_is_a_setting(settings, sdr):
    settings.TARGETED_QUIET_DAYS = 10
    account = targeted(sdr, days_ago=11)
    lead_activity(account, days_ago=10)

    unflag_quiet_accounts(NOW)

    assert not is_targeted(account)
    assert "in 10 days" in Notification.objects.get().message


def test_works_through_batches_past_accounts_that_stay(settings, sdr):
    settings.JOB_BATCH_SIZE = 2
    accounts = [targeted(sdr) for _ in range(6)]
    for busy in accounts[::2]:
        lead_activity(busy, days_ago=1)

    assert unflag_quiet_accounts(NOW) == {"unflagged": 3, "notified": 3}
    assert [is_targeted(a) for a in accounts] == [True, False] * 3


def test_running_the_job_again_changes_nothing(sdr):
    targeted(sdr)
    unflag_quiet_accounts(NOW)

    assert unflag_quiet_accounts(NOW) == {"unflagged": 0, "notified": 0}
    assert Notification.objects.count() == 1


def test_a_rerun_for_the_same_slot_is_a_no_op(sdr):
    targeted(sdr)
    first = run_job("targeted_accounts", NOW)
    late = targeted(sdr)  # would qualify, but the slot already ran
    second = run_job("targeted_accounts", NOW)

    assert second.pk == first.pk and first.counts == {"unflagged": 1, "notified": 1}
    assert is_targeted(late)


def test_run_job_command_runs_it_with_an_explicit_clock(capsys, sdr):
    account = targeted(sdr)

    call_command("run_job", "targeted_accounts", "--now", "2026-12-01T03:00:00Z")

    assert JobRun.objects.get(name="targeted_accounts").slot == NOW
    assert not is_targeted(account)
    assert "succeeded" in capsys.readouterr().out


def test_one_query_decides_each_batch(settings, sdr, django_assert_max_num_queries):
    settings.JOB_BATCH_SIZE = 100
    for n in range(20):
        account = targeted(sdr)
        if n % 2:
            lead_activity(account, days_ago=1)
            contact_activity(account, days_ago=40)

    # select quiet · lock · update · notify (+ savepoint pair) · the empty next batch
    with django_assert_max_num_queries(7):
        assert unflag_quiet_accounts(NOW) == {"unflagged": 10, "notified": 10}
