"""What a list's bulk-action bar offers (templates/_bulk_bar.html): the actions on its
records, and the owners, statuses, reasons and sequences they need."""

from __future__ import annotations

from typing import Any

from django.conf import settings

from leads import bulk_actions
from leads.models import BulkAction, Sequence, Status
from sdrcrm.models import User, active_prospectors, active_sellers

from .forms import REASON_CHOICES

Kind = BulkAction.Kind


def owners_for(record: str, user: User) -> Any:
    """Whom `user` may give these records to in bulk: a manager their teams' people, ops
    the SDRs and BDRs; a deal goes to a SAL or AE. Others assign nothing."""
    if not (user.is_manager or user.is_ops):
        return User.objects.none()
    if record == BulkAction.Record.OPPORTUNITY:
        return active_sellers().order_by("username")
    if user.is_manager:
        return User.objects.filter(team__in=user.managed_team_ids(), is_active=True).order_by("username")
    return active_prospectors().order_by("username")


def bulk_context(record: str, user: User) -> dict[str, Any]:
    kinds = bulk_actions.RECORDS[record].kinds
    owners = list(owners_for(record, user)) if Kind.ASSIGN in kinds else []
    return {
        "bulk_record": record,
        "bulk_kinds": [(kind, label) for kind, label in bulk_actions.kinds_for(record)
                       if kind != Kind.ASSIGN or owners],
        "bulk_owners": owners,
        "bulk_statuses": Status.choices if Kind.STATUS in kinds else [],
        "reason_choices": REASON_CHOICES,
        "bulk_sequences": (Sequence.objects.filter(is_active=True).order_by("name") if Kind.ENROL in kinds
                           else Sequence.objects.none()),
        "bulk_limit": f"{settings.BULK_ACTION_LIMIT:,}",
    }
