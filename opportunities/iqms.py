"""IQMs, initial qualifying meetings (docs/rules.md §4): booking one and changing it. The API, the
lead page and any import call these two functions, so every rule lives here once.

A no-show is "rebooked" by booking a new IQM for the same person: the stale_opportunities
job (opportunities/jobs.py) looks for a later IQM and flags the no-show only without one."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from django.db import transaction
from django.utils import timezone

from leads.models import Account, Contact, Lead
from sdrcrm import webhooks
from sdrcrm.errors import Refused
from sdrcrm.models import User

from .models import IQM, ActivitySource, Disposition, Opportunity

# What book_iqm reads from `data`, and what update_iqm may change (the person, the
# account and the subject follow from the person and the opportunity).
BOOK_FIELDS = {"account", "opportunity", "sdr", "start", "end", "location", "disposition", "activity_source",
               "sequence", "description"}
UPDATE_FIELDS = BOOK_FIELDS - {"account"}
# Typo guards: a meeting in year 2206 or one lasting a week is a slip of the keyboard, and
# would otherwise sit at the top of every list and skew the dashboards.
MAX_AHEAD = timedelta(days=2 * 366)
MAX_BEHIND = timedelta(days=10 * 366)
MAX_LENGTH = timedelta(hours=24)


def iqm_subject(person: Lead | Contact) -> str:
    return f"{person.full_name} - IQM"


def book_iqm(person: Lead | Contact, data: dict[str, Any], by: User, now: datetime | None = None) -> IQM:
    """A new IQM with `person`. `data` holds IQM fields as objects (`start` and `end`
    required; `opportunity`, `sdr`, `account`, `sequence` model instances or None).
    Raises Refused with the broken rule in words."""
    now = now or timezone.now()
    if not isinstance(person, Lead | Contact):
        raise Refused("An IQM is a meeting with one lead or one contact.", field="lead")
    if isinstance(person, Lead) and person.converted_to_id is not None:
        raise Refused(f"{person.full_name} was converted to a contact: book the IQM on the contact.", field="lead")
    unknown = set(data) - BOOK_FIELDS
    if unknown:
        raise Refused(f"An IQM has no field {', '.join(sorted(unknown))}.", field=sorted(unknown)[0])
    for required in ("start", "end"):
        if data.get(required) is None:
            raise Refused(f"Give the meeting's {required} time.", field=required)
    sdr = data.get("sdr")
    if sdr is None:
        if not by.is_prospector:
            raise Refused("Pick the SDR or BDR the IQM is assigned to.", field="sdr")
        sdr = by
    opportunity = data.get("opportunity")
    account = data.get("account")
    if isinstance(person, Contact) and account is not None and person.account_id not in (None, account.pk):
        raise Refused(f"{person.full_name} is a contact of another account: an IQM with a contact is on the "
                      "contact's account.", field="account")
    # A lead's matched account may be missing; then the opportunity's account is the best guess.
    account = account or person.account or (opportunity.account if opportunity else None)
    iqm = IQM(
        lead=person if isinstance(person, Lead) else None,
        contact=person if isinstance(person, Contact) else None,
        account=account,
        opportunity=opportunity,
        sdr=sdr,
        booked_by=by,
        start=data["start"],
        end=data["end"],
        location=data.get("location") or "",
        disposition=data.get("disposition") or Disposition.SCHEDULED,
        activity_source=data.get("activity_source") or ActivitySource.INBOUND,
        sequence=data.get("sequence"),
        description=data.get("description") or "",
        subject=iqm_subject(person),
    )
    with transaction.atomic():
        _lock_opportunity(iqm)
        check_iqm(iqm, now, changed=BOOK_FIELDS)
        iqm.save()
        webhooks.emit("iqm.created", [webhooks.iqm_data(iqm)], now)
    return iqm


def update_iqm(iqm: IQM, data: dict[str, Any], now: datetime | None = None) -> IQM:
    """Change the times, notes, disposition, SDR, attributed sequence or opportunity
    (None unlinks it). The rules are checked on the result, so unlinking the opportunity
    of an `sao` IQM is refused like setting `sao` without one."""
    now = now or timezone.now()
    unknown = set(data) - UPDATE_FIELDS
    if unknown:
        raise Refused(f"These IQM fields cannot be changed: {', '.join(sorted(unknown))}.", field=sorted(unknown)[0])
    with transaction.atomic():
        # Two people saving the same meeting at once: the second sees the first's change
        # and its own is checked against it.
        locked = (IQM.objects.select_for_update(of=("self",)).select_related("lead", "contact", "opportunity")
                  .get(pk=iqm.pk))
        for field, value in data.items():
            if value is None and field in ("start", "end", "sdr", "disposition", "activity_source"):
                raise Refused(f"The IQM's {field} cannot be empty.", field=field)
            setattr(locked, field, "" if value is None and field in ("location", "description") else value)
        _lock_opportunity(locked)
        if locked.account_id is None and locked.opportunity is not None:
            locked.account = locked.opportunity.account
        locked.subject = iqm_subject(locked.person)  # the person's name may have changed
        check_iqm(locked, now, changed=set(data))
        locked.save()
    return locked


def check_iqm(iqm: IQM, now: datetime, changed: set[str]) -> None:
    """The rules of one IQM, checked before saving: the database's check constraint on
    the times would only raise an IntegrityError, not say what is wrong. Rules on a single
    field apply when it changes (notes on an old meeting whose SDR has left still save);
    the rules between fields always."""
    if iqm.end <= iqm.start:
        raise Refused("The IQM must end after it starts.", field="end")
    if iqm.end - iqm.start > MAX_LENGTH:
        raise Refused("An IQM lasts at most 24 hours; check the end time.", field="end")
    if "start" in changed and not now - MAX_BEHIND <= iqm.start <= now + MAX_AHEAD:
        raise Refused("The IQM's start is more than two years ahead or ten years back; check the date.",
                      field="start")
    if iqm.disposition not in Disposition.values:
        raise Refused(f"'{iqm.disposition}' is not a disposition; one of: {', '.join(Disposition.values)}.",
                      field="disposition")
    if iqm.activity_source not in ActivitySource.values:
        raise Refused(f"'{iqm.activity_source}' is not an activity source; one of: "
                      f"{', '.join(ActivitySource.values)}.", field="activity_source")
    if "sdr" in changed and not (iqm.sdr.is_prospector and iqm.sdr.is_active):
        raise Refused(f"{iqm.sdr.get_full_name() or iqm.sdr.username} is not an active SDR or BDR; "
                      "an IQM is assigned to one.", field="sdr")
    opportunity = iqm.opportunity
    if opportunity is not None and opportunity.account_id != iqm.account_id:
        account = _account_name(iqm.account_id)
        raise Refused(f"The opportunity {opportunity.name} is not on the IQM's account ({account}).",
                      field="opportunity")
    if iqm.disposition == Disposition.SAO and (opportunity is None or not opportunity.is_sao):
        raise Refused("Disposition SAO needs a linked opportunity that is an SAO (accepted into 1-Discovery).",
                      field="disposition")


def _account_name(account_id: int | None) -> str:
    if account_id is None:
        return "none"
    return Account.objects.filter(pk=account_id).values_list("name", flat=True).first() or "none"


def _lock_opportunity(iqm: IQM) -> None:
    """The rules read the linked opportunity (its account, whether it is an SAO): lock it
    and read it as committed now, so what was checked is what the IQM points at."""
    if iqm.opportunity_id is not None:
        iqm.opportunity = Opportunity.objects.select_for_update().get(pk=iqm.opportunity_id)
