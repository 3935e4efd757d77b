"""Opportunities: creation, edits and the one stage-change function (docs/rules.md §4)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from typing import Any

from django.conf import settings
from django.db import transaction
from django.db.models import Case, Count, F, QuerySet, Sum, When, Window
from django.db.models.functions import RowNumber
from django.utils import timezone

from leads.models import Account, Contact, Lead, Status
from sdrcrm import company, field_history, notifications, webhooks
from sdrcrm.errors import Refused
from sdrcrm.models import SELLING_ROLES, Notification, Segment, User

from .models import (
    FINAL_STAGES,
    LATER_OPEN_STAGES,
    OPEN_STAGES,
    UNACCEPTED_STAGES,
    ClosedLostReason,
    Opportunity,
    Stage,
    StageChange,
)

# What people edit (update_opportunity). Stage, the snapshots and the closed-lost reason move
# only with change_stage; the account and the converted lead stay what they were at creation.
EDITABLE_FIELDS = frozenset({
    "name", "primary_contact", "reseller_contact", "reseller_account", "owner", "sdr", "iacv", "amount",
    "close_date", "next_step_date", "source", "professional_services", "authority_confirmed",
    "business_problem", "initiative", "current_tools", "entry_use_case", "potential_seats",
    "deployment_preference", "tech_stack", "competition", "closed_lost_details", "closed_won_details",
})
CREATE_FIELDS = EDITABLE_FIELDS | {"lead"}
STAGE_ONLY_FIELDS = frozenset({
    "stage", "stage_changed_at", "sales_accepted_date", "sales_qualified", "sales_qualified_date",
    "initial_iacv", "closed_at", "closed_lost_reason", "merged_into",
})
# Merging into one of these would hide the deal in a chain of dead opportunities.
DEAD_STAGES = {Stage.CLOSED_LOST, Stage.UNQUALIFIED, Stage.DUPLICATE}


HOME_ROWS = 25


@dataclass
class SellerWork:
    """A SAL's or AE's day: their open deals, the pending ones (waiting for them to accept)
    first, then by close date; the leads they own that are accepted or being qualified,
    oldest status first; each list its first HOME_ROWS with its whole count."""

    deals: list[Opportunity]
    deal_count: int
    leads: list[Lead]
    lead_count: int
    rows: int = HOME_ROWS


def seller_work(user: User) -> SellerWork:
    """Four queries on the owner indexes, whatever the rows."""
    deals = Opportunity.objects.filter(owner=user, stage__in=OPEN_STAGES)
    leads = Lead.objects.filter(owner=user, status__in=(Status.ACCEPTED, Status.QUALIFYING), converted_to__isnull=True)
    pending_first = Case(When(stage__in=UNACCEPTED_STAGES, then=0), default=1)
    return SellerWork(
        deals=list(deals.select_related("account").order_by(pending_first, "close_date", "-created_at")[:HOME_ROWS]),
        deal_count=deals.count(),
        leads=list(leads.only("first_name", "last_name", "email", "company", "status", "status_changed_at")
                   .order_by("status_changed_at", "id")[:HOME_ROWS]),
        lead_count=leads.count())


def label(stage: str) -> str:
    return Stage(stage).label


# --- who ------------------------------------------------------------------------------


def may_create_opportunity(user: User) -> bool:
    """Sales development, their managers, ops and sellers create opportunities; integrations do not."""
    return user.is_ops or user.is_manager or user.is_prospector or user.role in SELLING_ROLES


def with_defaults(data: dict[str, Any], by: User) -> dict[str, Any]:
    """Who owns and who is credited when the creator does not say: sellers, managers and ops
    own what they create, an SDR owns only their own pre-opportunity, and the SDR who creates
    a deal for a seller is the one credited (never on professional services)."""
    data = dict(data)
    stage = data.get("stage", Stage.PENDING_ACCEPTANCE)
    if data.get("owner") is None:
        if by.role in SELLING_ROLES or by.is_ops or by.is_manager or stage == Stage.PRE_OPPORTUNITY:
            data["owner"] = by
        else:
            raise Refused("Give the owner: the SAL/AE who is to accept the opportunity.", field="owner")
    if ("sdr" not in data and by.is_prospector and data["owner"].pk != by.pk and stage != Stage.PRE_OPPORTUNITY
            and not data.get("professional_services")):
        data["sdr"] = by
    return data


def offered_stages(opportunity: Opportunity, user: User) -> list[str]:
    """The stages a page offers: the map's, less the acceptance decisions that are not the user's."""
    stages = opportunity.next_stages()
    if opportunity.stage == Stage.PENDING_ACCEPTANCE and not may_decide_acceptance(user, opportunity):
        stages = [stage for stage in stages if stage not in (Stage.DISCOVERY, Stage.UNQUALIFIED)]
    return stages


def may_decide_acceptance(user: User | None, opportunity: Opportunity) -> bool:
    """Accepting (or unqualifying) a pending opportunity is the SAL/AE's call (handbook: "the SAL
    or AE should move the opportunity"), or ops'. None is the system (admin scripts, jobs)."""
    return user is None or user.is_ops or user.pk == opportunity.owner_id


def check_owner(owner: User | None, stage: str) -> None:
    """A SAL/AE owns an opportunity (ops and managers may too); an SDR/BDR owns only their own
    00-Pre Opportunity."""
    if owner is None:
        raise Refused("An opportunity needs an owner.", field="owner")
    if not owner.is_active:
        raise Refused(f"{owner.username} is inactive and cannot own opportunities.", field="owner")
    if owner.role in SELLING_ROLES or owner.is_ops or owner.is_manager:
        return
    if owner.is_prospector:
        if stage == Stage.PRE_OPPORTUNITY:
            return
        raise Refused(f"An SDR/BDR owns only a {label(Stage.PRE_OPPORTUNITY)}; from {label(Stage.PENDING_ACCEPTANCE)} "
                      "on a SAL or AE owns the opportunity.", field="owner")
    raise Refused(f"{owner.username} ({owner.get_role_display()}) cannot own opportunities.", field="owner")


def check_sdr(sdr: User | None) -> None:
    if sdr is not None and not (sdr.is_prospector and sdr.is_active):
        raise Refused("The credited SDR must be an active SDR or BDR.", field="sdr")


def default_name(account: Account, reseller_account: Account | None = None) -> str:
    """"<Account> - New business", or the handbook's "<End user> via <Reseller>" for a reseller
    deal, cut so that a 255-character account name plus the suffix still fits the column."""
    suffix = f" via {reseller_account.name}" if reseller_account is not None else " - New business"
    limit = Opportunity._meta.get_field("name").max_length
    return f"{account.name[:limit - len(suffix)]}{suffix}"[:limit]


def check_credit(owner: User | None, sdr: User | None, professional_services: bool) -> None:
    """The credited SDR is never the owner, and professional services are never credited
    to sales development."""
    if sdr is not None and owner is not None and sdr.pk == owner.pk:
        raise Refused("The credited SDR cannot also own the opportunity.", field="sdr")
    if sdr is not None and professional_services:
        raise Refused("Professional-services opportunities are never credited to sales development: "
                      "clear the SDR (sdr) to mark it professional services.", field="sdr")


def check_contact(account: Account, contact: Contact | None) -> None:
    if contact is not None and contact.account_id != account.pk:
        raise Refused(f"The primary contact must be a contact of {account.name}.", field="primary_contact")


# --- create and edit -----------------------------------------------------------------------


@transaction.atomic
def create_opportunity(account: Account, data: dict[str, Any], by: User | None,
                       now: datetime | None = None) -> Opportunity:
    """A new opportunity in `pending_acceptance`, or `pre_opportunity` for an SDR's own warm
    conversation (owned by the SDR, no `sdr` set). `data` holds Opportunity fields."""
    now = now or timezone.now()
    data = dict(data)
    if by is not None and not may_create_opportunity(by):
        raise Refused("Only sales development, their managers, ops and sellers create opportunities.", status=403)
    stage = data.pop("stage", Stage.PENDING_ACCEPTANCE)
    if stage not in UNACCEPTED_STAGES:
        raise Refused("Every opportunity starts in 0-Pending Acceptance (or 00-Pre Opportunity).", field="stage")
    unknown = sorted(set(data) - CREATE_FIELDS)
    if unknown:
        raise Refused(f"{unknown[0]} cannot be set on a new opportunity.", field=unknown[0])
    if stage == Stage.PRE_OPPORTUNITY and data.get("sdr") is not None:
        raise Refused("A 00-Pre Opportunity is the SDR's own: it is owned by the SDR and credits no one.",
                      field="sdr")
    if not str(data.get("name") or "").strip():
        raise Refused("An opportunity needs a name.", field="name")
    owner = data.get("owner")
    check_owner(owner, stage)
    check_credit(owner, data.get("sdr"), bool(data.get("professional_services")))
    check_sdr(data.get("sdr"))
    check_contact(account, data.get("primary_contact"))
    opportunity = Opportunity.objects.create(account=account, stage=stage, stage_changed_at=now, created_by=by,
                                             **data)
    StageChange.objects.create(opportunity=opportunity, old="", new=stage, by=by, at=now)
    webhooks.emit("opportunity.stage_changed", [webhooks.stage_data(opportunity, "", now)], now)
    return opportunity


def check_update(opportunity: Opportunity, data: dict[str, Any]) -> dict[str, Any]:
    """The field changes `data` makes to `opportunity` once the rules allow them (Refused
    otherwise). Pure: nothing is written. The admin's form runs it too."""
    for field in data:
        if field in STAGE_ONLY_FIELDS:
            raise Refused(f"{field} changes only with a stage change (POST opportunities/{{id}}/stage/).",
                          field=field)
        if field not in EDITABLE_FIELDS:
            raise Refused(f"{field} cannot be edited.", field=field)
    changes = {field: value for field, value in data.items() if _differs(getattr(opportunity, field), value)}
    owner = changes.get("owner", opportunity.owner)
    previous_owner = opportunity.owner
    ps = changes.get("professional_services", opportunity.professional_services)
    if "owner" in changes:
        check_owner(owner, opportunity.stage)
        if (opportunity.stage == Stage.PRE_OPPORTUNITY and previous_owner.is_prospector and "sdr" not in data
                and not ps):
            # The SDR hands their pre-opportunity to a seller: the SDR who worked it keeps the
            # credit (and so keeps seeing it).
            changes["sdr"] = previous_owner
    sdr = changes.get("sdr", opportunity.sdr)
    check_credit(owner, sdr, ps)
    if "sdr" in changes:
        check_sdr(sdr)
    if opportunity.stage == Stage.PRE_OPPORTUNITY and owner.is_prospector and sdr is not None:
        raise Refused("A 00-Pre Opportunity owned by its SDR credits no one: give it to a SAL/AE first.",
                      field="sdr")
    if "primary_contact" in changes:
        check_contact(opportunity.account, changes["primary_contact"])
    if "name" in changes and not str(changes["name"] or "").strip():
        raise Refused("An opportunity needs a name.", field="name")
    iacv = changes.get("iacv", opportunity.iacv)
    details = changes.get("closed_won_details", opportunity.closed_won_details)
    if opportunity.stage == Stage.CLOSED_WON:
        _check_won_details(iacv, details)
    return changes


def _differs(current: Any, new: Any) -> bool:
    if hasattr(current, "pk") or hasattr(new, "pk"):
        return getattr(current, "pk", None) != getattr(new, "pk", None)
    return current != new


def _check_editable(opportunity: Opportunity, by: User | None) -> None:
    if by is not None and not Opportunity.objects.editable_by(by).filter(pk=opportunity.pk).exists():
        raise Refused("From 1-Discovery on only the opportunity's owner and ops may change it.", status=403)


@transaction.atomic
def update_opportunity(opportunity: Opportunity, data: dict[str, Any], by: User | None) -> Opportunity:
    """Field edits under the rules of check_update; `opportunity` is refreshed and returned."""
    locked = _locked_rows().get(pk=opportunity.pk)
    _check_editable(locked, by)
    changes = check_update(locked, data)
    if changes:
        before = field_history.values_of(locked, changes)
        for field, value in changes.items():
            setattr(locked, field, value)
        locked.save(update_fields=[*changes, "updated_at"])
        field_history.record(locked, before, by)
    _copy(locked, opportunity)
    return opportunity


def _locked_rows() -> QuerySet[Opportunity]:
    # Lock the opportunity's row only: the owner's and the account's rows are read, not locked,
    # so moves on other opportunities of the same people do not queue behind this one.
    return Opportunity.objects.select_for_update(of=("self",)).select_related("owner", "sdr", "account")


def _copy(source: Opportunity, target: Opportunity) -> None:
    if source is target:
        return
    for field in Opportunity._meta.concrete_fields:
        setattr(target, field.attname, getattr(source, field.attname))


# --- the stage function ---------------------------------------------------------------------


def _check_won_details(iacv: Decimal, details: str) -> None:
    if iacv >= settings.LARGE_DEAL_IACV and not details.strip():
        raise Refused(f"Closing won a deal with IACV of {settings.LARGE_DEAL_IACV:,} or more needs closed-won "
                      "details: why we won it.", field="closed_won_details")


def _refuse_move(opportunity: Opportunity, new: str) -> None:
    """Why the stage map does not allow opportunity → new, in words."""
    old = opportunity.stage
    if old == new:
        raise Refused(f"The opportunity is already in {label(new)}.", field="stage")
    if old in FINAL_STAGES:
        raise Refused(f"{label(old)} is final: the opportunity cannot move any more.", field="stage")
    if new == Stage.PRE_OPPORTUNITY:
        raise Refused("00-Pre Opportunity is a starting stage: only a new opportunity starts there.", field="stage")
    if opportunity.is_sao and new in (Stage.PENDING_ACCEPTANCE, Stage.UNQUALIFIED):
        raise Refused(f"An accepted opportunity can never return to {label(new)}; if it is no longer qualified, "
                      "ask Sales Operations.", field="stage")
    if opportunity.is_sao and new == Stage.DUPLICATE:
        raise Refused("An accepted opportunity cannot be marked 10-Duplicate: close it lost with reason "
                      "'Merged into another opportunity' or 'Consolidating order'.", field="stage")
    if new == Stage.UNQUALIFIED:
        raise Refused("9-Unqualified is reachable only from 0-Pending Acceptance; close a pre-opportunity "
                      "that goes nowhere as 8-Closed Lost.", field="stage")
    if new == Stage.DUPLICATE:
        raise Refused("10-Duplicate is allowed only before acceptance.", field="stage")
    if not opportunity.is_sao and new in LATER_OPEN_STAGES | {Stage.CLOSED_WON}:
        raise Refused(f"An opportunity is accepted in 1-Discovery before it can move to {label(new)}.",
                      field="stage")
    if new == Stage.PENDING_ACCEPTANCE:
        raise Refused("0-Pending Acceptance is entered only from 00-Pre Opportunity (or by reopening an "
                      "opportunity that was never accepted).", field="stage")
    raise Refused(f"An opportunity cannot move from {label(old)} to {label(new)}.", field="stage")


def _check_inputs(opportunity: Opportunity, new: str, reason: str, merged_into: Opportunity | None,
                  lost_details: str, won_details: str) -> None:
    if new == Stage.CLOSED_LOST:
        if reason not in ClosedLostReason.values:
            choices = ", ".join(f"{value} ({text})" for value, text in ClosedLostReason.choices)
            raise Refused(f"Closing lost needs a reason: one of {choices}.", field="closed_lost_reason")
        if reason == ClosedLostReason.MERGED:
            if merged_into is None:
                raise Refused("Reason 'merged' needs the opportunity it was merged into (merged_into).",
                              field="merged_into")
            if merged_into.pk == opportunity.pk:
                raise Refused("An opportunity cannot be merged into itself.", field="merged_into")
            if merged_into.account_id != opportunity.account_id:
                raise Refused("An opportunity can be merged only into another opportunity of the same account.",
                              field="merged_into")
            if merged_into.stage in DEAD_STAGES:
                raise Refused(f"Merge into a live opportunity, not one in {label(merged_into.stage)}.",
                              field="merged_into")
        elif merged_into is not None:
            raise Refused("merged_into goes only with reason 'merged'.", field="merged_into")
    else:
        if reason:
            raise Refused("A closed-lost reason goes only with 8-Closed Lost.", field="closed_lost_reason")
        if merged_into is not None:
            raise Refused("merged_into goes only with 8-Closed Lost, reason 'merged'.", field="merged_into")
    if lost_details and new not in (Stage.CLOSED_LOST, Stage.UNQUALIFIED):
        raise Refused("Closed-lost details go only with 8-Closed Lost or 9-Unqualified.", field="closed_lost_details")
    if won_details and new != Stage.CLOSED_WON:
        raise Refused("Closed-won details go only with 7-Closed Won.", field="closed_won_details")


def _check_acceptance(opportunity: Opportunity) -> None:
    """Leaving 0-Pending Acceptance for 1-Discovery makes it an SAO (handbook criteria)."""
    missing = []
    if not opportunity.authority_confirmed:
        missing.append("authority confirmed (right person, right profile)")
    if not opportunity.business_problem.strip():
        missing.append("a business problem")
    if missing:
        raise Refused(f"An SAO needs {' and '.join(missing)} before it moves to 1-Discovery.", field="stage")


@transaction.atomic
def change_stage(opportunity: Opportunity, stage: str, *, by: User | None, closed_lost_reason: str = "",
                 merged_into: Opportunity | None = None, closed_lost_details: str = "",
                 closed_won_details: str = "", now: datetime | None = None) -> Opportunity:
    """THE one way an opportunity changes stage: checks the map and the rules of docs/rules.md §4, sets
    the snapshots (sales accepted, sales qualified, initial IACV, closed at), and writes a
    StageChange. `opportunity` is refreshed and returned; every refusal is Refused."""
    now = now or timezone.now()
    if stage not in Stage.values:
        raise Refused(f"'{stage}' is not a stage; one of: {', '.join(Stage.values)}.", field="stage")
    # The lock makes two racing moves take turns: the second sees the first's stage.
    locked = _locked_rows().get(pk=opportunity.pk)
    _check_editable(locked, by)
    old = locked.stage
    if stage not in locked.next_stages():
        _refuse_move(locked, stage)
    if locked.reopen_expired(now):
        raise Refused(f"A closed-lost opportunity can be reopened only within {settings.OPPORTUNITY_REOPEN_DAYS} "
                      "days of closing; create a new opportunity instead.", field="stage")
    _check_inputs(locked, stage, closed_lost_reason, merged_into, closed_lost_details, closed_won_details)
    accepting = stage == Stage.DISCOVERY and not locked.is_sao
    if accepting or (old == Stage.PENDING_ACCEPTANCE and stage == Stage.UNQUALIFIED):
        if not may_decide_acceptance(by, locked):
            raise Refused("Only the opportunity's owner (SAL/AE) or ops decides whether a pending opportunity is "
                          "accepted or unqualified.", field="stage", status=403)
    if accepting:
        _check_acceptance(locked)
    if stage == Stage.PENDING_ACCEPTANCE and locked.owner.is_prospector:
        raise Refused(f"Give the opportunity to its SAL/AE (change the owner) before moving it to {label(stage)}; "
                      "the SDR keeps the credit.", field="owner")
    if stage == Stage.CLOSED_WON:
        _check_won_details(locked.iacv, closed_won_details.strip() or locked.closed_won_details)

    updates: dict[str, Any] = {"stage": stage, "stage_changed_at": now}
    if accepting:
        updates["sales_accepted_date"] = company.day_of(now)
    if stage in LATER_OPEN_STAGES | {Stage.CLOSED_WON} and not locked.sales_qualified:
        # The first move past 1-Discovery makes it sales qualified; the snapshot never changes after.
        updates.update(sales_qualified=True, sales_qualified_date=company.day_of(now), initial_iacv=locked.iacv)
    if stage == Stage.PENDING_ACCEPTANCE:
        updates["stale_reminded_at"] = None  # a new stage-0 spell gets its own reminder
    if stage not in OPEN_STAGES:
        updates["closed_at"] = now
    if stage == Stage.CLOSED_LOST:
        updates.update(closed_lost_reason=closed_lost_reason, merged_into=merged_into)
    if closed_lost_details:
        updates["closed_lost_details"] = closed_lost_details
    if closed_won_details:
        updates["closed_won_details"] = closed_won_details
    if old == Stage.CLOSED_LOST:  # reopened
        updates.update(closed_lost_reason="", merged_into=None, closed_at=None)
    for field, value in updates.items():
        setattr(locked, field, value)
    locked.save(update_fields=[*updates, "updated_at"])
    StageChange.objects.create(opportunity=locked, old=old, new=stage, by=by, at=now)
    webhooks.emit("opportunity.stage_changed", [webhooks.stage_data(locked, old, now)], now)
    if stage == Stage.CLOSED_LOST:
        _notify_lost_deal(locked, by)
    if stage == Stage.UNQUALIFIED:
        _notify_sdr_lead(locked, by)
    _copy(locked, opportunity)
    return opportunity


def _notify_lost_deal(opportunity: Opportunity, by: User | None) -> None:
    """Large-segment or big-IACV deals lost are posted to the lost-deals channel (handbook)."""
    large = opportunity.account.segment == Segment.LARGE
    if not (large or opportunity.iacv >= settings.LARGE_DEAL_IACV):
        return
    reason = ClosedLostReason(opportunity.closed_lost_reason).label
    details = f" {opportunity.closed_lost_details}" if opportunity.closed_lost_details else ""
    who = f" by {by.get_full_name() or by.username}" if by is not None else ""
    notifications.notify_channel(
        "lost-deals", Notification.Kind.LOST_DEAL, opportunity=opportunity,
        message=f"Lost{who}: {opportunity.name} ({opportunity.account.name}"
                f"{', large account' if large else ''}), IACV {opportunity.iacv:,}. Reason: {reason}.{details}",
    )


def _notify_sdr_lead(opportunity: Opportunity, by: User | None) -> None:
    """An unqualified opportunity tells the credited SDR's team lead, who schedules a feedback
    session with the AE (handbook, 9-Unqualified)."""
    sdr = opportunity.sdr
    if sdr is None:
        return
    team_lead = sdr.reports_to_id()
    if team_lead is None:
        return
    who = (by.get_full_name() or by.username) if by is not None else "the system"
    notifications.notify(
        [team_lead], Notification.Kind.OPPORTUNITY_UNQUALIFIED, opportunity=opportunity,
        message=f"{opportunity.name} from {sdr.get_full_name() or sdr.username} was unqualified by {who}: "
                "schedule a feedback session with the AE.",
    )


def touched_contact(opportunity: Opportunity) -> Contact:
    """Whom a touch logged on an opportunity is about: its primary contact (activities
    belong to people, not deals)."""
    if opportunity.primary_contact is None:
        raise Refused("The opportunity has no primary contact to log it on; set one first.", field="primary_contact")
    return opportunity.primary_contact


# --- The board (kanban) -----------------------------------------------------------------

BOARD_CARDS = 50  # per column, the ones waiting longest in their stage first


@dataclass
class Column:
    stage: str
    label: str
    count: int
    iacv: Decimal
    cards: list[Opportunity]

    @property
    def more(self) -> int:
        return self.count - len(self.cards)


def board(opportunities: QuerySet[Opportunity], user: User) -> list[Column]:
    """The open opportunities of `opportunities`, one column per open stage in stage order,
    each with its count, its IACV total and its first BOARD_CARDS cards (the longest in
    the stage first), every card carrying `moves`, the stages the user is offered. Two
    queries whatever the number: the totals, and the cards ranked within their stage."""
    open_ones = opportunities.filter(stage__in=OPEN_STAGES)
    totals = {row["stage"]: row for row in open_ones.order_by().values("stage").annotate(
        count=Count("id"), iacv=Sum("iacv"))}
    ranked = open_ones.annotate(rank=Window(RowNumber(), partition_by=F("stage"),
                                            order_by=[F("stage_changed_at").asc(), F("id").asc()]))
    cards: dict[str, list[Opportunity]] = {}
    for card in ranked.filter(rank__lte=BOARD_CARDS).select_related("account", "owner").order_by("rank"):
        card.moves = [(stage, Stage(stage).label) for stage in offered_stages(card, user)  # type: ignore[attr-defined]
                      if stage in OPEN_STAGES]
        cards.setdefault(card.stage, []).append(card)
    return [Column(stage, Stage(stage).label, totals.get(stage, {}).get("count", 0),
                   totals.get(stage, {}).get("iacv") or Decimal(0), cards.get(stage, []))
            for stage in Stage.values if stage in OPEN_STAGES]
