"""Accounts: creating and editing them (what derives from their fields is recomputed on
every save), the hierarchy's shared segment, and the targeted flag (docs/rules.md §8.1, §5): an SDR
flags the accounts they are prospecting into, at most TARGETED_ACCOUNTS_LIMIT (40) at a
time; the daily `targeted_accounts` job (leads/jobs.py) unflags quiet ones."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from routing import geo, segments
from sdrcrm import field_history
from sdrcrm.errors import Refused
from sdrcrm.models import User

from . import domains, tiers
from .models import Account


@transaction.atomic
def save_account(account: Account, data: Mapping[str, Any], by: User | None = None) -> Account:
    """Create or edit an account. What is derived from its fields (domain, name key,
    region, tier, the hierarchy's segment) is recomputed on every save; the targeted
    flag goes through set_targeted, which holds the per-SDR limit, flagged by `by`."""
    data = dict(data)
    targeted = data.pop("targeted", None)
    before = field_history.values_of(account, data) if account.pk else None  # an edit, not a creation
    for field, value in data.items():
        setattr(account, field, value)
    account.domain = domains.normalise_domain(account.domain) if account.domain else ""
    account.name_key = domains.normalise_company(account.name)
    account.region = geo.region_for(account.country, account.state)[0]
    account.tier = tiers.tier_of(account)
    account.save()
    if before is not None:
        field_history.record(account, before, by)
    if targeted is not None:
        set_targeted(account, targeted, by=by)
    refresh_hierarchy_segments(account)
    account.refresh_from_db(fields=["segment", "targeted", "targeted_by", "targeted_at", "updated_at"])
    return account


def refresh_hierarchy_segments(account: Account) -> None:
    """Every account of a hierarchy takes the largest segment found anywhere in it."""
    root = account
    seen = {root.pk}
    while root.parent_id and root.parent_id not in seen:
        root = Account.objects.get(pk=root.parent_id)
        seen.add(root.pk)
    members: dict[int, int | None] = {}
    frontier = [root.pk]
    while frontier:
        found = list(Account.objects.filter(pk__in=frontier).values_list("pk", "employee_count"))
        members.update(found)
        frontier = [pk for pk in Account.objects.filter(parent__in=frontier).values_list("pk", flat=True)
                    if pk not in members]
    segment = segments.largest(segments.segment_for(count) for count in members.values())
    Account.objects.filter(pk__in=members).exclude(segment=segment).update(segment=segment)


# --- The targeted flag ---------------------------------------------------------------


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
