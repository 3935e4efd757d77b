"""Opportunities: creation, edits and the one stage-change function (SPEC §7)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from django.db import transaction
from django.utils import timezone

from leads.models import Account
from sdrcrm.errors import Refused
from sdrcrm.models import User

from .models import Opportunity, Stage, StageChange

STARTING_STAGES = {Stage.PENDING_ACCEPTANCE, Stage.PRE_OPPORTUNITY}


def check_credit(owner: User | None, sdr: User | None, professional_services: bool) -> None:
    """The credited SDR is never the owner, and professional services are never credited
    to sales development."""
    if sdr is not None and owner is not None and sdr.pk == owner.pk:
        raise Refused("The credited SDR cannot also own the opportunity.", field="sdr")
    if sdr is not None and professional_services:
        raise Refused("Professional-services opportunities are never credited to sales development.", field="sdr")


@transaction.atomic
def create_opportunity(account: Account, data: dict[str, Any], by: User | None,
                       now: datetime | None = None) -> Opportunity:
    """A new opportunity in `pending_acceptance`, or `pre_opportunity` for an SDR's own warm
    conversation (owned by the SDR, no `sdr` set). `data` holds Opportunity fields."""
    now = now or timezone.now()
    data = dict(data)
    stage = data.pop("stage", Stage.PENDING_ACCEPTANCE)
    if stage not in STARTING_STAGES:
        raise Refused("Every opportunity starts in 0-Pending Acceptance (or 00-Pre Opportunity).", field="stage")
    if stage == Stage.PRE_OPPORTUNITY and data.get("sdr") is not None:
        raise Refused("A 00-Pre Opportunity is the SDR's own: it is owned by the SDR and credits no one.",
                      field="sdr")
    owner = data.get("owner")
    if owner is None:
        raise Refused("An opportunity needs an owner.", field="owner")
    check_credit(owner, data.get("sdr"), bool(data.get("professional_services")))
    opportunity = Opportunity.objects.create(account=account, stage=stage, stage_changed_at=now, created_by=by,
                                             **data)
    StageChange.objects.create(opportunity=opportunity, old="", new=stage, by=by, at=now)
    return opportunity
