"""The one stage-change function and the edit rules of docs/rules.md §4: every (from, to) pair of the
stage map, the SAO and SQO snapshots, closing lost and won, reopening, notifications, and the
owner / SDR credit rules of edits."""

from __future__ import annotations

import itertools
import threading
from datetime import timedelta
from decimal import Decimal

import pytest
from django.db import connection
from django.utils import timezone

from opportunities import services
from opportunities.models import Opportunity, Stage, StageChange
from sdrcrm.errors import Refused
from sdrcrm.models import Notification, Role, Segment
from tests.conftest import on_postgres, require
from tests.factories import AccountFactory, ContactFactory, OpportunityFactory, TeamFactory, UserFactory

pytestmark = pytest.mark.django_db

S = Stage
NOW = timezone.now()
TODAY = timezone.localdate(NOW)
LATER = [S.SCOPING, S.TECHNICAL_EVALUATION, S.PROPOSAL, S.NEGOTIATING, S.AWAITING_SIGNATURE]
ACCEPTED_OPEN = [S.DISCOVERY, *LATER]

# The states an opportunity can be in, each by the stage and whether it was ever accepted
# (a closed-lost opportunity is either). Written out again on purpose: the test does not read
# the map it checks.
STATES = {
    "pre_opportunity": (S.PRE_OPPORTUNITY, False),
    "pending_acceptance": (S.PENDING_ACCEPTANCE, False),
    **{stage.value: (stage, True) for stage in ACCEPTED_OPEN},
    "closed_won": (S.CLOSED_WON, True),
    "closed_lost_after_acceptance": (S.CLOSED_LOST, True),
    "closed_lost_before_acceptance": (S.CLOSED_LOST, False),
    "unqualified": (S.UNQUALIFIED, False),
    "duplicate": (S.DUPLICATE, False),
}
ALLOWED = {
    "pre_opportunity": {S.PENDING_ACCEPTANCE, S.CLOSED_LOST, S.DUPLICATE},
    "pending_acceptance": {S.DISCOVERY, S.CLOSED_LOST, S.UNQUALIFIED, S.DUPLICATE},
    **{stage.value: (set(ACCEPTED_OPEN) - {stage}) | {S.CLOSED_WON, S.CLOSED_LOST} for stage in ACCEPTED_OPEN},
    "closed_won": set(),
    "closed_lost_after_acceptance": set(ACCEPTED_OPEN),
    "closed_lost_before_acceptance": {S.PENDING_ACCEPTANCE, S.DISCOVERY},
    "unqualified": set(),
    "duplicate": set(),
}
PAIRS = list(itertools.product(STATES, Stage))


def opportunity_in(state: str, **fields) -> Opportunity:
    """An opportunity in `state` as the stage function would have left it: owned by an AE,
    credited to an SDR (none on a pre-opportunity), meeting the SAO criteria."""
    stage, accepted = STATES[state]
    values = {
        "stage": stage, "authority_confirmed": True, "business_problem": "Releases take a week",
        "iacv": Decimal("5000"),
    }
    if stage == S.PRE_OPPORTUNITY:
        values["sdr"] = None
    if accepted:
        values["sales_accepted_date"] = TODAY - timedelta(days=20)
    if stage in LATER or stage == S.CLOSED_WON:
        values.update(sales_qualified=True, sales_qualified_date=TODAY - timedelta(days=10),
                      initial_iacv=Decimal("5000"))
    if stage in (S.CLOSED_WON, S.CLOSED_LOST, S.UNQUALIFIED, S.DUPLICATE):
        values["closed_at"] = NOW - timedelta(days=1)
    if stage == S.CLOSED_LOST:
        values["closed_lost_reason"] = "no_budget"
    values.update(fields)
    return OpportunityFactory(**values)


def inputs_for(stage: str) -> dict[str, str]:
    """What a move to `stage` needs besides the stage."""
    if stage == S.CLOSED_LOST:
        return {"closed_lost_reason": "no_budget"}
    if stage == S.CLOSED_WON:
        return {"closed_won_details": "Won on the single application"}
    return {}


@pytest.mark.parametrize(("state", "new"), [p for p in PAIRS if p[1] in ALLOWED[p[0]]],
                         ids=[f"{s}->{n}" for s, n in PAIRS if n in ALLOWED[s]])
def test_an_allowed_move_changes_the_stage_and_records_it(state, new):
    opportunity = opportunity_in(state)
    old = opportunity.stage

    services.change_stage(opportunity, new, by=opportunity.owner, now=NOW, **inputs_for(new))

    assert opportunity.stage == new
    assert Opportunity.objects.get(pk=opportunity.pk).stage == new
    change = StageChange.objects.get(opportunity=opportunity)
    assert (change.old, change.new, change.by, change.at) == (old, new, opportunity.owner, NOW)


@pytest.mark.parametrize(("state", "new"), [p for p in PAIRS if p[1] not in ALLOWED[p[0]]],
                         ids=[f"{s}->{n}" for s, n in PAIRS if n not in ALLOWED[s]])
def test_every_other_move_is_refused_with_the_rule_and_writes_nothing(state, new):
    opportunity = opportunity_in(state)
    old = opportunity.stage

    with pytest.raises(Refused) as refused:
        services.change_stage(opportunity, new, by=opportunity.owner, now=NOW, **inputs_for(new))

    assert refused.value.field == "stage" and refused.value.message
    assert Opportunity.objects.get(pk=opportunity.pk).stage == old
    assert not StageChange.objects.filter(opportunity=opportunity).exists()


def test_moving_to_the_same_stage_says_it_is_already_there():
    opportunity = opportunity_in("scoping")
    with pytest.raises(Refused, match="already in 2-Scoping"):
        services.change_stage(opportunity, S.SCOPING, by=opportunity.owner)


def test_an_unknown_stage_is_refused():
    opportunity = opportunity_in("pending_acceptance")
    with pytest.raises(Refused, match="'won' is not a stage"):
        services.change_stage(opportunity, "won", by=opportunity.owner)


def test_an_accepted_opportunity_cannot_be_marked_duplicate_and_is_told_to_close_lost():
    opportunity = opportunity_in("discovery")
    with pytest.raises(Refused, match="close it lost"):
        services.change_stage(opportunity, S.DUPLICATE, by=opportunity.owner)


# --- SAO: acceptance -----------------------------------------------------------------------


@pytest.mark.parametrize(("authority", "problem", "missing"), [
    (False, "Releases take a week", "authority confirmed"),
    (True, "   ", "a business problem"),
    (False, "", "authority confirmed (right person, right profile) and a business problem"),
])
def test_accepting_without_the_sao_criteria_says_what_is_missing(authority, problem, missing):
    opportunity = opportunity_in("pending_acceptance", authority_confirmed=authority, business_problem=problem)

    with pytest.raises(Refused) as refused:
        services.change_stage(opportunity, S.DISCOVERY, by=opportunity.owner)

    assert missing in refused.value.message
    fresh = Opportunity.objects.get(pk=opportunity.pk)
    assert fresh.stage == S.PENDING_ACCEPTANCE and fresh.sales_accepted_date is None


def test_accepting_with_both_criteria_makes_it_an_sao_dated_today():
    opportunity = opportunity_in("pending_acceptance")
    now = timezone.now() - timedelta(days=3)

    services.change_stage(opportunity, S.DISCOVERY, by=opportunity.owner, now=now)

    fresh = Opportunity.objects.get(pk=opportunity.pk)
    assert fresh.sales_accepted_date == timezone.localdate(now)
    assert fresh.is_sao and not fresh.sales_qualified


def test_the_credited_sdr_cannot_accept_the_opportunity():
    opportunity = opportunity_in("pending_acceptance")

    with pytest.raises(Refused) as refused:
        services.change_stage(opportunity, S.DISCOVERY, by=opportunity.sdr)

    assert refused.value.status == 403 and "owner" in refused.value.message
    assert Opportunity.objects.get(pk=opportunity.pk).sales_accepted_date is None


def test_the_credited_sdr_cannot_unqualify_a_pending_opportunity_either():
    opportunity = opportunity_in("pending_acceptance")
    with pytest.raises(Refused) as refused:
        services.change_stage(opportunity, S.UNQUALIFIED, by=opportunity.sdr)
    assert refused.value.status == 403


def test_ops_may_accept_for_the_owner():
    opportunity = opportunity_in("pending_acceptance")
    services.change_stage(opportunity, S.DISCOVERY, by=UserFactory(role=Role.OPS))
    assert Opportunity.objects.get(pk=opportunity.pk).is_sao


def test_the_sdr_may_still_close_their_pending_opportunity_lost():
    opportunity = opportunity_in("pending_acceptance")
    services.change_stage(opportunity, S.CLOSED_LOST, by=opportunity.sdr, closed_lost_reason="timing")
    assert Opportunity.objects.get(pk=opportunity.pk).stage == S.CLOSED_LOST


# --- SQO: the snapshot ----------------------------------------------------------------------


def test_leaving_discovery_for_scoping_makes_it_sales_qualified_with_an_iacv_snapshot():
    opportunity = opportunity_in("discovery", iacv=Decimal("30000"))
    now = NOW - timedelta(days=2)

    services.change_stage(opportunity, S.SCOPING, by=opportunity.owner, now=now)

    fresh = Opportunity.objects.get(pk=opportunity.pk)
    assert fresh.sales_qualified is True
    assert fresh.sales_qualified_date == timezone.localdate(now)
    assert fresh.initial_iacv == Decimal("30000")


def test_the_sqo_snapshot_is_taken_once_and_never_changes_after():
    opportunity = opportunity_in("discovery", iacv=Decimal("30000"))
    owner = opportunity.owner
    first = NOW - timedelta(days=5)
    services.change_stage(opportunity, S.SCOPING, by=owner, now=first)

    services.update_opportunity(opportunity, {"iacv": Decimal("90000")}, by=owner)
    services.change_stage(opportunity, S.DISCOVERY, by=owner, now=NOW - timedelta(days=3))
    services.change_stage(opportunity, S.PROPOSAL, by=owner, now=NOW)
    services.change_stage(opportunity, S.CLOSED_WON, by=owner, now=NOW, closed_won_details="Beat the incumbent")

    fresh = Opportunity.objects.get(pk=opportunity.pk)
    assert fresh.iacv == Decimal("90000")
    assert fresh.initial_iacv == Decimal("30000")
    assert fresh.sales_qualified_date == timezone.localdate(first)


def test_closing_lost_from_discovery_does_not_make_it_sales_qualified():
    opportunity = opportunity_in("discovery", iacv=Decimal("30000"))

    services.change_stage(opportunity, S.CLOSED_LOST, by=opportunity.owner, closed_lost_reason="no_decision")

    fresh = Opportunity.objects.get(pk=opportunity.pk)
    assert fresh.sales_qualified is False
    assert fresh.sales_qualified_date is None and fresh.initial_iacv is None


def test_closing_won_straight_from_discovery_makes_it_sales_qualified():
    opportunity = opportunity_in("discovery", iacv=Decimal("800"))
    services.change_stage(opportunity, S.CLOSED_WON, by=opportunity.owner)
    fresh = Opportunity.objects.get(pk=opportunity.pk)
    assert fresh.sales_qualified and fresh.initial_iacv == Decimal("800")


def test_moving_backwards_keeps_the_sqo_and_sao_dates():
    opportunity = opportunity_in("negotiating")
    accepted, qualified = opportunity.sales_accepted_date, opportunity.sales_qualified_date

    services.change_stage(opportunity, S.TECHNICAL_EVALUATION, by=opportunity.owner)

    fresh = Opportunity.objects.get(pk=opportunity.pk)
    assert (fresh.sales_accepted_date, fresh.sales_qualified_date) == (accepted, qualified)


# --- closing lost, merging, reopening --------------------------------------------------------------


def test_closing_lost_needs_a_reason():
    opportunity = opportunity_in("scoping")
    with pytest.raises(Refused) as refused:
        services.change_stage(opportunity, S.CLOSED_LOST, by=opportunity.owner)
    assert refused.value.field == "closed_lost_reason" and "needs a reason" in refused.value.message


def test_closing_lost_records_the_reason_details_and_when():
    opportunity = opportunity_in("scoping")
    services.change_stage(opportunity, S.CLOSED_LOST, by=opportunity.owner, closed_lost_reason="lost_to_competitor",
                          closed_lost_details="Chose a competitor on price", now=NOW)
    fresh = Opportunity.objects.get(pk=opportunity.pk)
    assert (fresh.closed_lost_reason, fresh.closed_lost_details, fresh.closed_at) == (
        "lost_to_competitor", "Chose a competitor on price", NOW)


def test_a_closed_lost_reason_with_another_stage_is_refused():
    opportunity = opportunity_in("scoping")
    with pytest.raises(Refused) as refused:
        services.change_stage(opportunity, S.PROPOSAL, by=opportunity.owner, closed_lost_reason="timing")
    assert refused.value.field == "closed_lost_reason"


def test_reason_merged_needs_the_opportunity_it_was_merged_into():
    opportunity = opportunity_in("discovery")
    with pytest.raises(Refused) as refused:
        services.change_stage(opportunity, S.CLOSED_LOST, by=opportunity.owner, closed_lost_reason="merged")
    assert refused.value.field == "merged_into"


def test_merging_into_an_opportunity_of_another_account_is_refused():
    opportunity = opportunity_in("discovery")
    elsewhere = opportunity_in("discovery")
    with pytest.raises(Refused, match="same account"):
        services.change_stage(opportunity, S.CLOSED_LOST, by=opportunity.owner, closed_lost_reason="merged",
                              merged_into=elsewhere)
    assert Opportunity.objects.get(pk=opportunity.pk).stage == S.DISCOVERY


def test_merging_an_opportunity_into_itself_is_refused():
    opportunity = opportunity_in("discovery")
    with pytest.raises(Refused, match="into itself"):
        services.change_stage(opportunity, S.CLOSED_LOST, by=opportunity.owner, closed_lost_reason="merged",
                              merged_into=opportunity)


def test_merging_into_another_opportunity_of_the_same_account_links_them():
    opportunity = opportunity_in("discovery")
    survivor = opportunity_in("scoping", account=opportunity.account)

    services.change_stage(opportunity, S.CLOSED_LOST, by=opportunity.owner, closed_lost_reason="merged",
                          merged_into=survivor)

    fresh = Opportunity.objects.get(pk=opportunity.pk)
    assert (fresh.stage, fresh.closed_lost_reason, fresh.merged_into) == (S.CLOSED_LOST, "merged", survivor)


def test_merging_into_a_dead_opportunity_is_refused():
    opportunity = opportunity_in("discovery")
    dead = opportunity_in("duplicate", account=opportunity.account)
    with pytest.raises(Refused, match="live opportunity"):
        services.change_stage(opportunity, S.CLOSED_LOST, by=opportunity.owner, closed_lost_reason="merged",
                              merged_into=dead)


@pytest.mark.parametrize(("days", "reopens"), [(29, True), (30, True), (31, False)])
def test_a_closed_lost_opportunity_reopens_within_30_days_only(days, reopens):
    survivor = OpportunityFactory()
    opportunity = opportunity_in("closed_lost_after_acceptance", account=survivor.account,
                                 closed_at=NOW - timedelta(days=days), closed_lost_reason="merged",
                                 merged_into=survivor)

    if reopens:
        services.change_stage(opportunity, S.PROPOSAL, by=opportunity.owner, now=NOW)
        fresh = Opportunity.objects.get(pk=opportunity.pk)
        assert fresh.stage == S.PROPOSAL
        assert (fresh.closed_lost_reason, fresh.merged_into, fresh.closed_at) == ("", None, None)
    else:
        with pytest.raises(Refused, match="create a new opportunity"):
            services.change_stage(opportunity, S.PROPOSAL, by=opportunity.owner, now=NOW)
        assert Opportunity.objects.get(pk=opportunity.pk).stage == S.CLOSED_LOST


def test_the_reopen_window_follows_the_setting(settings):
    settings.OPPORTUNITY_REOPEN_DAYS = 10
    opportunity = opportunity_in("closed_lost_after_acceptance", closed_at=NOW - timedelta(days=11))
    with pytest.raises(Refused, match="within 10 days"):
        services.change_stage(opportunity, S.DISCOVERY, by=opportunity.owner, now=NOW)


def test_reopening_a_never_accepted_opportunity_into_discovery_needs_the_sao_criteria():
    opportunity = opportunity_in("closed_lost_before_acceptance", authority_confirmed=False)
    with pytest.raises(Refused, match="authority confirmed"):
        services.change_stage(opportunity, S.DISCOVERY, by=opportunity.owner, now=NOW)


# --- closing won ----------------------------------------------------------------------------


@pytest.mark.parametrize(("iacv", "details", "allowed"), [
    ("12000", "", False), ("12000", "Beat the incumbent on security", True), ("11999.99", "", True),
    ("11999", "", True), ("250000", "  ", False),
])
def test_closing_won_a_large_deal_needs_closed_won_details(iacv, details, allowed):
    opportunity = opportunity_in("awaiting_signature", iacv=Decimal(iacv))

    if allowed:
        services.change_stage(opportunity, S.CLOSED_WON, by=opportunity.owner, closed_won_details=details)
        assert Opportunity.objects.get(pk=opportunity.pk).stage == S.CLOSED_WON
    else:
        with pytest.raises(Refused) as refused:
            services.change_stage(opportunity, S.CLOSED_WON, by=opportunity.owner, closed_won_details=details)
        assert refused.value.field == "closed_won_details" and "12,000" in refused.value.message
        assert Opportunity.objects.get(pk=opportunity.pk).stage == S.AWAITING_SIGNATURE


def test_closed_won_details_already_on_the_opportunity_are_enough():
    opportunity = opportunity_in("awaiting_signature", iacv=Decimal("50000"), closed_won_details="Signed for 3 years")
    services.change_stage(opportunity, S.CLOSED_WON, by=opportunity.owner)
    assert Opportunity.objects.get(pk=opportunity.pk).stage == S.CLOSED_WON


# --- notifications --------------------------------------------------------------------------


@pytest.mark.parametrize(("segment", "iacv", "notified"), [
    (Segment.LARGE, "100", True),
    (Segment.SMB, "12000", True),
    (Segment.SMB, "11999", False),
    (Segment.MID_MARKET, "0", False),
])
def test_closing_lost_a_large_account_or_big_deal_notifies_the_lost_deals_channel(segment, iacv, notified):
    opportunity = opportunity_in("proposal", account=AccountFactory(segment=segment), iacv=Decimal(iacv))

    services.change_stage(opportunity, S.CLOSED_LOST, by=opportunity.owner, closed_lost_reason="lost_to_competitor")

    notes = Notification.objects.filter(channel="lost-deals")
    if notified:
        note = notes.get()
        assert (note.kind, note.opportunity, note.user) == ("lost_deal", opportunity, None)
        assert opportunity.name in note.message and "Lost to competitor" in note.message
    else:
        assert not notes.exists()


def test_unqualifying_tells_the_credited_sdrs_team_lead():
    lead = UserFactory(role=Role.SDR_MANAGER)
    sdr = UserFactory(role=Role.SDR, team=TeamFactory(manager=lead))
    opportunity = opportunity_in("pending_acceptance", sdr=sdr)

    services.change_stage(opportunity, S.UNQUALIFIED, by=opportunity.owner)

    note = Notification.objects.get(user=lead)
    assert note.kind == "opportunity_unqualified" and note.opportunity == opportunity
    assert "feedback session" in note.message


# --- history and races ----------------------------------------------------------------------


def test_each_move_leaves_a_stage_change_with_from_to_by_and_when():
    opportunity = opportunity_in("pending_acceptance")
    owner = opportunity.owner
    services.change_stage(opportunity, S.DISCOVERY, by=owner, now=NOW - timedelta(hours=2))
    services.change_stage(opportunity, S.SCOPING, by=owner, now=NOW)

    rows = list(StageChange.objects.filter(opportunity=opportunity).order_by("at")
                .values_list("old", "new", "by", "at"))

    assert rows == [(S.PENDING_ACCEPTANCE, S.DISCOVERY, owner.pk, NOW - timedelta(hours=2)),
                    (S.DISCOVERY, S.SCOPING, owner.pk, NOW)]
    assert Opportunity.objects.get(pk=opportunity.pk).stage_changed_at == NOW


def test_a_stale_copy_is_checked_against_the_stored_stage():
    opportunity = opportunity_in("pending_acceptance")
    stale = Opportunity.objects.get(pk=opportunity.pk)
    services.change_stage(opportunity, S.DUPLICATE, by=opportunity.owner)

    with pytest.raises(Refused, match="final"):
        services.change_stage(stale, S.DISCOVERY, by=opportunity.owner)
    assert StageChange.objects.filter(opportunity=opportunity).count() == 1


@pytest.mark.django_db(transaction=True)
def test_two_racing_moves_take_turns_and_only_one_is_recorded():
    require(on_postgres(), "CI must run the row-lock test on PostgreSQL", "needs PostgreSQL row locks")
    opportunity = opportunity_in("pending_acceptance")
    barrier = threading.Barrier(2)
    outcomes: list[str] = []

    def move(stage: str, reason: str) -> None:
        copy = Opportunity.objects.get(pk=opportunity.pk)  # both read pending_acceptance
        barrier.wait()
        try:
            services.change_stage(copy, stage, by=None, closed_lost_reason=reason)
            outcomes.append("moved")
        except Refused:
            outcomes.append("refused")
        finally:
            connection.close()

    threads = [threading.Thread(target=move, args=(S.CLOSED_LOST, "timing")),
               threading.Thread(target=move, args=(S.DUPLICATE, ""))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert sorted(outcomes) == ["moved", "refused"]
    assert StageChange.objects.filter(opportunity=opportunity).count() == 1


# --- create and edit: owner, SDR credit, professional services, the edit lock ---------------------


def test_creating_with_the_owner_as_the_credited_sdr_is_refused():
    ae = UserFactory(role=Role.AE)
    with pytest.raises(Refused) as refused:
        services.create_opportunity(AccountFactory(), {"name": "Acme", "owner": ae, "sdr": ae}, by=ae)
    assert refused.value.field == "sdr"
    assert not Opportunity.objects.exists()


def test_creating_a_credited_professional_services_opportunity_is_refused():
    with pytest.raises(Refused, match="never credited"):
        services.create_opportunity(AccountFactory(), {"name": "Acme PS", "owner": UserFactory(role=Role.AE),
                                                       "sdr": UserFactory(role=Role.SDR),
                                                       "professional_services": True}, by=None)


def test_creating_records_the_first_stage_change():
    sdr = UserFactory(role=Role.SDR)
    opportunity = services.create_opportunity(AccountFactory(), {"name": "Acme", "owner": UserFactory(role=Role.AE),
                                                                 "sdr": sdr}, by=sdr, now=NOW)
    change = StageChange.objects.get(opportunity=opportunity)
    assert (change.old, change.new, change.by, change.at) == ("", S.PENDING_ACCEPTANCE, sdr, NOW)


def test_an_sdr_may_own_only_a_pre_opportunity():
    sdr = UserFactory(role=Role.SDR)
    with pytest.raises(Refused) as refused:
        services.create_opportunity(AccountFactory(), {"name": "Acme", "owner": sdr}, by=sdr)
    assert refused.value.field == "owner"

    opportunity = services.create_opportunity(AccountFactory(), {"name": "Acme", "owner": sdr,
                                                                 "stage": S.PRE_OPPORTUNITY}, by=sdr)
    assert (opportunity.stage, opportunity.owner, opportunity.sdr) == (S.PRE_OPPORTUNITY, sdr, None)


def test_a_primary_contact_from_another_account_is_refused():
    with pytest.raises(Refused) as refused:
        services.create_opportunity(AccountFactory(), {"name": "Acme", "owner": UserFactory(role=Role.AE),
                                                       "primary_contact": ContactFactory(account=AccountFactory())},
                                    by=None)
    assert refused.value.field == "primary_contact"


def test_an_integration_cannot_create_opportunities():
    with pytest.raises(Refused) as refused:
        services.create_opportunity(AccountFactory(), {"name": "Acme", "owner": UserFactory(role=Role.AE)},
                                    by=UserFactory(role=Role.INTEGRATION))
    assert refused.value.status == 403


def test_an_sdrs_pre_opportunity_moves_to_pending_only_once_a_seller_owns_it_and_the_sdr_keeps_the_credit():
    sdr = UserFactory(role=Role.SDR)
    ae = UserFactory(role=Role.AE)
    opportunity = services.create_opportunity(AccountFactory(), {"name": "Warm talk", "owner": sdr,
                                                                 "stage": S.PRE_OPPORTUNITY,
                                                                 "authority_confirmed": True}, by=sdr)
    with pytest.raises(Refused) as refused:
        services.change_stage(opportunity, S.PENDING_ACCEPTANCE, by=sdr)
    assert refused.value.field == "owner" and "SAL/AE" in refused.value.message

    services.update_opportunity(opportunity, {"owner": ae}, by=sdr)
    services.change_stage(opportunity, S.PENDING_ACCEPTANCE, by=sdr)

    fresh = Opportunity.objects.get(pk=opportunity.pk)
    assert (fresh.stage, fresh.owner, fresh.sdr) == (S.PENDING_ACCEPTANCE, ae, sdr)


def test_editing_the_owner_into_the_credited_sdr_is_refused():
    opportunity = opportunity_in("pending_acceptance")
    with pytest.raises(Refused) as refused:
        services.update_opportunity(opportunity, {"owner": opportunity.sdr}, by=UserFactory(role=Role.OPS))
    assert refused.value.field in ("owner", "sdr")
    assert Opportunity.objects.get(pk=opportunity.pk).owner_id != opportunity.sdr_id


def test_crediting_the_owner_as_sdr_is_refused():
    opportunity = opportunity_in("pending_acceptance")
    with pytest.raises(Refused, match="cannot also own"):
        services.update_opportunity(opportunity, {"sdr": opportunity.owner}, by=opportunity.owner)
    assert Opportunity.objects.get(pk=opportunity.pk).sdr_id != opportunity.owner_id


def test_switching_professional_services_on_while_an_sdr_is_credited_is_refused_until_the_credit_goes():
    opportunity = opportunity_in("discovery")
    owner = opportunity.owner

    with pytest.raises(Refused, match="clear the SDR"):
        services.update_opportunity(opportunity, {"professional_services": True}, by=owner)
    assert Opportunity.objects.get(pk=opportunity.pk).professional_services is False

    services.update_opportunity(opportunity, {"professional_services": True, "sdr": None}, by=owner)
    fresh = Opportunity.objects.get(pk=opportunity.pk)
    assert fresh.professional_services is True and fresh.sdr is None


def test_crediting_an_sdr_on_a_professional_services_opportunity_is_refused():
    opportunity = opportunity_in("discovery", professional_services=True, sdr=None)
    with pytest.raises(Refused, match="never credited"):
        services.update_opportunity(opportunity, {"sdr": UserFactory(role=Role.SDR)}, by=opportunity.owner)


@pytest.mark.parametrize("field", ["stage", "sales_accepted_date", "sales_qualified", "sales_qualified_date",
                                   "initial_iacv", "closed_at", "closed_lost_reason", "merged_into"])
def test_edits_never_write_stage_or_snapshot_fields(field):
    opportunity = opportunity_in("scoping")
    before = Opportunity.objects.filter(pk=opportunity.pk).values().get()
    with pytest.raises(Refused) as refused:
        services.update_opportunity(opportunity, {field: None}, by=opportunity.owner)
    assert refused.value.field == field
    assert Opportunity.objects.filter(pk=opportunity.pk).values().get() == before


@pytest.mark.parametrize(("state", "who", "may_edit"), [
    ("pending_acceptance", "sdr", True),
    ("discovery", "sdr", False),
    ("proposal", "sdr", False),
    ("discovery", "owner", True),
    ("discovery", "ops", True),
    ("discovery", "manager", False),
])
def test_from_discovery_on_only_the_owner_and_ops_edit(state, who, may_edit):
    manager = UserFactory(role=Role.SDR_MANAGER)
    sdr = UserFactory(role=Role.SDR, team=TeamFactory(manager=manager))
    opportunity = opportunity_in(state, sdr=sdr)
    user = {"sdr": sdr, "owner": opportunity.owner, "ops": UserFactory(role=Role.OPS), "manager": manager}[who]

    if may_edit:
        services.update_opportunity(opportunity, {"competition": "Jenkins"}, by=user)
        assert Opportunity.objects.get(pk=opportunity.pk).competition == "Jenkins"
    else:
        with pytest.raises(Refused) as refused:
            services.update_opportunity(opportunity, {"competition": "Jenkins"}, by=user)
        assert refused.value.status == 403
        assert Opportunity.objects.get(pk=opportunity.pk).competition == ""


def test_the_sdr_cannot_move_the_stage_after_acceptance():
    opportunity = opportunity_in("discovery")
    with pytest.raises(Refused) as refused:
        services.change_stage(opportunity, S.SCOPING, by=opportunity.sdr)
    assert refused.value.status == 403
    assert Opportunity.objects.get(pk=opportunity.pk).stage == S.DISCOVERY


def test_blanking_closed_won_details_of_a_large_won_deal_is_refused():
    opportunity = opportunity_in("closed_won", iacv=Decimal("40000"), closed_won_details="Security won it")
    with pytest.raises(Refused) as refused:
        services.update_opportunity(opportunity, {"closed_won_details": ""}, by=opportunity.owner)
    assert refused.value.field == "closed_won_details"


def test_removing_the_owner_is_refused():
    opportunity = opportunity_in("pending_acceptance")
    with pytest.raises(Refused, match="needs an owner"):
        services.update_opportunity(opportunity, {"owner": None}, by=opportunity.owner)


def test_an_sdrs_own_pre_opportunity_credits_no_one():
    sdr = UserFactory(role=Role.SDR)
    opportunity = opportunity_in("pre_opportunity", owner=sdr)
    with pytest.raises(Refused) as refused:
        services.update_opportunity(opportunity, {"sdr": UserFactory(role=Role.SDR)}, by=sdr)
    assert "credits no one" in refused.value.message
    assert Opportunity.objects.get(pk=opportunity.pk).sdr is None
