"""The targeted flag on accounts (SPEC §3, §9): an SDR flags the accounts they are
prospecting into, at most TARGETED_ACCOUNTS_LIMIT (40) at a time. The daily
`targeted_accounts` job (leads/jobs.py) unflags quiet ones."""

from __future__ import annotations

from datetime import datetime

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from sdrcrm.errors import Refused
from sdrcrm.models import User

from .models import Account


def may_target(user: User) -> bool:
    """Sales development flags accounts: SDRs and BDRs, their managers and ops."""
    return user.is_prospector or user.is_manager or user.is_ops


def may_unflag(user: User, account: Account) -> bool:
    """Who flagged an account, a manager or ops may unflag it; nobody takes an SDR's flag away."""
    return account.targeted_by_id in (None, user.pk) or user.is_manager or user.is_ops


def targeted_count(user: User) -> int:
    """How many accounts `user` has flagged and still stand (the partial index
    account_targeted answers this)."""
    return Account.objects.filter(targeted=True, targeted_by=user).count()


@transaction.atomic
def set_targeted(account: Account, targeted: bool, by: User | None, now: datetime | None = None) -> bool:
    """Flag or unflag `account` as targeted; returns True when this call changed it.

    Flagging records who (`by`) and when; it is refused when `by` already targets the
    limit. Flagging an account that is already targeted changes nothing (the first
    flag, and its clock for the quiet-days job, stands). Unflagging clears who and when.
    """
    now = now or timezone.now()
    if by is not None and not may_target(by):
        raise Refused("Only sales development flags targeted accounts.", status=403)
    if by is not None and not targeted and not may_unflag(by, account):
        raise Refused("Only who flagged the account, a manager or ops may unflag it.", status=403)
    if not targeted:
        changed = Account.objects.filter(pk=account.pk, targeted=True).update(
            targeted=False, targeted_by=None, targeted_at=None, updated_at=now)
        if changed:
            account.targeted, account.targeted_by, account.targeted_at = False, None, None
        return bool(changed)
    if by is None:
        raise Refused("Flagging an account as targeted needs the person who flags it.", field="targeted")
    # The limit is exact under concurrency: the flagger's own row is the lock, so two
    # requests of one SDR count one after the other (the second sees the first's flag
    # once it commits). Lock order is always user, then account, so no deadlock.
    User.objects.select_for_update().filter(pk=by.pk).values_list("pk", flat=True).get()
    current = Account.objects.select_for_update().filter(pk=account.pk).values_list("targeted", flat=True).get()
    if current:
        return False
    limit = settings.TARGETED_ACCOUNTS_LIMIT
    if targeted_count(by) >= limit:
        raise Refused(f"You already target {limit} accounts; unflag one before targeting another.",
                      field="targeted")
    Account.objects.filter(pk=account.pk).update(targeted=True, targeted_by=by, targeted_at=now, updated_at=now)
    account.targeted, account.targeted_by, account.targeted_at = True, by, now
    return True
