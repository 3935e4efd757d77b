"""The SLA clock end to end: routing starts it, a touch stops it, the sla_breaches job
alerts on a miss and reassigns through the pool a business day later."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from django.utils import timezone

from leads import lifecycle, people, sequences, services
from leads import today as work
from leads.models import Lead, Queue, Status, Task
from routing.jobs import check_sla
from routing.models import PoolMember, RoutingDecision
from routing.sla import add_business_days
from sdrcrm.jobs import run_job
from sdrcrm.models import Notification, Region, Role
from tests.conftest import pool_of
from tests.factories import (
    EnrollmentFactory,
    LeadFactory,
    SequenceFactory,
    SequenceStepFactory,
    TeamFactory,
    UserFactory,
)

pytestmark = pytest.mark.django_db

POOL = "US/APAC BDR"  # contact requests from mid-market AMER go here (docs/rules.md §2 rule 8)
# Friday 20 November 2026, 16:00 in New York (EST, UTC-5).
FRIDAY_4PM = datetime(2026, 11, 20, 21, 0, tzinfo=UTC)
MONDAY_4PM = datetime(2026, 11, 23, 21, 0, tzinfo=UTC)  # due: one business day later
TUESDAY_4PM = datetime(2026, 11, 24, 21, 0, tzinfo=UTC)  # the second business day ends
SECOND = timedelta(seconds=1)


@pytest.fixture
def bdr_manager():
    return UserFactory(role=Role.SDR_MANAGER, username="maria")


@pytest.fixture
def bdrs(bdr_manager):
    """Two AMER BDRs in the pool, in turn order; both report to `bdr_manager`."""
    users = [UserFactory(role=Role.BDR, username=name, first_name=name.title(), last_name="Bdr", manager=bdr_manager)
             for name in ("ann", "bob")]
    pool_of(POOL, *users)
    return users


def request(email: str, type: str = "contact_request", at: datetime = FRIDAY_4PM, **fields) -> Lead:
    data = {"email": email, "last_name": "Doe", "country": "US", "state": "NY", "employee_count": 500,
            "initial_source": "web_direct", **fields}
    lead = services.ingest_lead(data, by=None, now=at).lead
    services.record_activity(lead, type, now=at)
    lead.refresh_from_db()
    return lead


def sla_decisions(lead: Lead):
    return RoutingDecision.objects.filter(lead=lead, rule_kind="sla")


def test_a_contact_request_routed_to_an_owner_is_due_one_business_day_later(bdrs):
    lead = request("jo@firm.com")
    assert lead.owner == bdrs[0]
    assert (lead.sla_due_at, lead.sla_breached_at, lead.sla_pool) == (MONDAY_4PM, None, POOL)


def test_a_professional_services_request_starts_the_clock_too(bdrs):
    lead = request("jo@firm.com", type="professional_services_request")
    assert lead.owner == bdrs[0] and lead.sla_due_at == MONDAY_4PM


def test_a_trial_gets_no_clock(bdrs):
    lead = request("jo@firm.com", type="trial_request")
    assert lead.owner == bdrs[0]
    assert (lead.sla_due_at, lead.sla_pool) == (None, "")


def test_the_due_time_follows_the_owners_region_not_the_leads():
    london = UserFactory(role=Role.BDR, region=Region.EMEA)
    pool_of(POOL, london)
    lead = request("jo@firm.com", at=datetime(2026, 8, 28, 8, 0, tzinfo=UTC))  # Friday 09:00 London
    # Monday 31 August is a bank holiday in England (not in the US): due Tuesday 09:00 BST.
    assert lead.sla_due_at == datetime(2026, 9, 1, 8, 0, tzinfo=UTC)


def test_a_call_stops_the_clock_and_nothing_is_breached(bdrs):
    lead = request("jo@firm.com")
    services.record_activity(lead, "call", now=MONDAY_4PM - timedelta(hours=3))
    lead.refresh_from_db()
    assert lead.sla_due_at is None

    assert check_sla(TUESDAY_4PM)["breached"] == 0
    assert not Notification.objects.filter(kind="sla_breach").exists()


def test_a_page_visit_is_not_a_follow_up(bdrs):
    lead = request("jo@firm.com")
    services.record_activity(lead, "pricing_page_visit", now=MONDAY_4PM - timedelta(hours=3))
    lead.refresh_from_db()
    assert lead.sla_due_at == MONDAY_4PM


def test_the_job_breaches_at_the_due_time_and_not_a_second_before(bdrs):
    lead = request("jo@firm.com")

    assert run_job("sla_breaches", MONDAY_4PM - SECOND).counts["breached"] == 0
    lead.refresh_from_db()
    assert lead.sla_breached_at is None

    assert run_job("sla_breaches", MONDAY_4PM).counts["breached"] == 1
    lead.refresh_from_db()
    assert lead.sla_breached_at == MONDAY_4PM


def test_a_breach_alerts_the_owner_and_their_manager_once(bdrs, bdr_manager):
    lead = request("jo@firm.com")
    check_sla(MONDAY_4PM)
    check_sla(MONDAY_4PM)  # the same clock again: nothing new
    check_sla(MONDAY_4PM + timedelta(minutes=15))  # the next slot: still nothing new

    alerts = Notification.objects.filter(kind="sla_breach", lead=lead)
    assert sorted(alerts.values_list("user__username", flat=True)) == ["ann", "maria"]
    assert "Mon 23 Nov 2026 16:00 EST" in alerts.first().message


def test_without_a_manager_on_the_user_the_team_manager_is_alerted():
    boss = UserFactory(role=Role.SDR_MANAGER)
    owner = UserFactory(role=Role.BDR, team=TeamFactory(manager=boss))
    pool_of(POOL, owner)
    request("jo@firm.com")
    check_sla(MONDAY_4PM)
    assert set(Notification.objects.filter(kind="sla_breach").values_list("user", flat=True)) == {owner.pk, boss.pk}


def test_a_lead_closed_before_its_due_time_is_not_breached(bdrs):
    lead = request("jo@firm.com")
    lifecycle.transition(lead, Status.UNQUALIFIED, reason="spam", now=MONDAY_4PM - timedelta(hours=1))

    assert check_sla(MONDAY_4PM) == {"breached": 0, "reassigned": 0, "kept": 0, "unassigned": 0, "dropped": 1}
    lead.refresh_from_db()
    assert (lead.sla_due_at, lead.sla_breached_at) == (None, None)


def test_the_job_works_through_every_overdue_lead_in_batches(bdrs, settings):
    settings.JOB_BATCH_SIZE = 2
    leads = [request(f"jo{i}@firm{i}.com") for i in range(5)]
    assert check_sla(MONDAY_4PM)["breached"] == 5
    assert Lead.objects.filter(pk__in=[lead.pk for lead in leads], sla_breached_at=MONDAY_4PM).count() == 5


def test_untouched_after_the_second_business_day_it_is_reassigned_through_its_pool(bdrs):
    ann, bob = bdrs
    lead = request("jo@firm.com")
    check_sla(MONDAY_4PM)

    assert check_sla(TUESDAY_4PM - SECOND)["reassigned"] == 0
    counts = check_sla(TUESDAY_4PM)

    assert counts["reassigned"] == 1
    lead.refresh_from_db()
    assert lead.owner == bob
    # The new owner gets a fresh business day; the lead is no longer listed as breached.
    assert lead.sla_due_at == add_business_days(TUESDAY_4PM, 1, "amer") == datetime(2026, 11, 25, 21, 0, tzinfo=UTC)
    assert lead.sla_breached_at is None
    decision = sla_decisions(lead).get()
    assert (decision.action, decision.owner, decision.pool.name, decision.at) == ("owner", bob, POOL, TUESDAY_4PM)
    assert "SLA: no follow-up within two business days" in decision.reason
    assert f"reassigned from Ann Bdr to Bob Bdr via pool {POOL}" in decision.reason
    assert decision.inputs["previous_owner"] == "ann" and decision.inputs["region"] == "amer"
    assert Notification.objects.filter(user=bob, kind="sla_reassigned", lead=lead).count() == 1

    check_sla(TUESDAY_4PM)  # re-run: nothing new
    assert sla_decisions(lead).count() == 1
    assert Notification.objects.filter(user=bob, kind="sla_reassigned").count() == 1


def test_breach_and_reassignment_happen_in_one_run_when_the_job_was_down(bdrs):
    lead = request("jo@firm.com")
    assert check_sla(TUESDAY_4PM) == {"breached": 1, "reassigned": 1, "kept": 0, "unassigned": 0, "dropped": 0}
    lead.refresh_from_db()
    assert lead.owner == bdrs[1]


def test_the_current_owners_turn_is_passed_over(bdrs):
    ann, bob = bdrs
    first, second = request("a@one.com"), request("b@two.com")
    assert (first.owner, second.owner) == (ann, bob)
    check_sla(MONDAY_4PM)
    check_sla(TUESDAY_4PM)
    first.refresh_from_db()
    second.refresh_from_db()
    # Ann's turn came up for her own lead: it went to Bob, and Bob's lead to Ann.
    assert (first.owner, second.owner) == (bob, ann)


def test_with_the_setting_off_a_breached_lead_stays_with_its_owner(bdrs, settings):
    settings.SLA_REASSIGN_AFTER_SECOND_DAY = False
    lead = request("jo@firm.com")
    check_sla(MONDAY_4PM)
    assert check_sla(TUESDAY_4PM + timedelta(days=7))["reassigned"] == 0
    lead.refresh_from_db()
    assert lead.owner == bdrs[0] and lead.sla_breached_at == MONDAY_4PM
    assert not sla_decisions(lead).exists()


def test_a_touch_after_the_breach_stops_the_reassignment(bdrs):
    lead = request("jo@firm.com")
    check_sla(MONDAY_4PM)
    services.record_activity(lead, "email_sent", now=MONDAY_4PM + timedelta(hours=2))

    assert check_sla(TUESDAY_4PM)["reassigned"] == 0
    lead.refresh_from_db()
    assert lead.owner == bdrs[0] and (lead.sla_due_at, lead.sla_breached_at) == (None, None)


def test_when_only_the_owner_is_available_the_lead_stays_and_the_clock_restarts(bdrs):
    ann, bob = bdrs
    lead = request("jo@firm.com")
    bob.is_available = False
    bob.save()
    check_sla(MONDAY_4PM)

    assert check_sla(TUESDAY_4PM)["kept"] == 1
    lead.refresh_from_db()
    assert lead.owner == ann and lead.sla_due_at == datetime(2026, 11, 25, 21, 0, tzinfo=UTC)
    assert "stays with Ann Bdr" in sla_decisions(lead).get().reason


def test_when_nobody_in_the_pool_is_available_the_lead_goes_to_unassigned_and_ops_are_alerted(bdrs):
    ops = UserFactory(role=Role.OPS)
    lead = request("jo@firm.com")
    for bdr in bdrs:
        bdr.is_available = False
        bdr.save()
    check_sla(MONDAY_4PM)

    assert check_sla(TUESDAY_4PM)["unassigned"] == 1
    lead.refresh_from_db()
    assert (lead.owner, lead.queue.name, lead.sla_due_at) == (None, Queue.UNASSIGNED, None)
    assert sla_decisions(lead).get().action == "queue"
    assert Notification.objects.filter(user=ops, lead=lead).exists()


def test_a_lead_routed_straight_to_an_owner_is_alerted_but_not_reassigned(bdrs, bdr_manager):
    # Another lead at the same domain is being worked: rule 5 gives the new one to its owner.
    ann = bdrs[0]
    worked = request("a@firm.com", type="trial_request")
    lifecycle.transition(worked, Status.ACCEPTED, now=FRIDAY_4PM)
    lead = request("b@firm.com")
    assert lead.owner == ann and lead.sla_pool == "" and lead.sla_due_at == MONDAY_4PM

    counts = check_sla(TUESDAY_4PM + timedelta(days=7))

    assert counts["breached"] == 1 and counts["reassigned"] == 0
    lead.refresh_from_db()
    assert lead.owner == ann and lead.sla_breached_at is not None
    alerted = Notification.objects.filter(kind="sla_breach", lead=lead).values_list("user", flat=True)
    assert set(alerted) == {ann.pk, bdr_manager.pk}


def test_a_manual_owner_change_restarts_the_clock_for_the_new_owner():
    ops = UserFactory(role=Role.OPS)
    first, second = UserFactory(role=Role.SDR, region="amer"), UserFactory(role=Role.SDR, region="amer")
    old_due = datetime(2020, 1, 6, 15, 0, tzinfo=UTC)
    lead = LeadFactory(owner=first, sla_due_at=old_due, sla_pool="US/APAC BDR")

    before = timezone.now()
    people.update_person(lead, {"owner": second}, by=ops)
    after = timezone.now()

    lead = Lead.objects.get(pk=lead.pk)
    assert lead.owner == second
    # A full business day from the change, in the new owner's region.
    assert add_business_days(before, 1, "amer") <= lead.sla_due_at <= add_business_days(after, 1, "amer")
    assert lead.sla_breached_at is None and lead.sla_pool == "US/APAC BDR"


def test_an_owner_change_without_a_running_clock_starts_none():
    lead = LeadFactory(owner=UserFactory(role=Role.SDR))
    people.update_person(lead, {"owner": UserFactory(role=Role.SDR)}, by=UserFactory(role=Role.OPS))
    assert Lead.objects.get(pk=lead.pk).sla_due_at is None


def test_losing_a_lead_to_the_sla_does_not_spend_the_owners_round_robin_turn(bdrs):
    ann, bob = bdrs
    first = request("a@one.com")
    second = request("b@two.com", at=MONDAY_4PM)  # due later: only the first breaches
    assert (first.owner, second.owner) == (ann, bob)
    check_sla(MONDAY_4PM)
    ann_before = PoolMember.objects.values_list("credit", "assigned").get(user=ann)
    bob_assigned = PoolMember.objects.values_list("assigned", flat=True).get(user=bob)

    check_sla(TUESDAY_4PM)

    first.refresh_from_db()
    assert first.owner == bob
    # Ann's turn came up, but passing a lead on is no turn taken: her state is as it was.
    assert PoolMember.objects.values_list("credit", "assigned").get(user=ann) == ann_before
    assert PoolMember.objects.values_list("assigned", flat=True).get(user=bob) == bob_assigned + 1


def test_a_lead_reassigned_for_its_sla_takes_its_open_step_task_to_the_new_owner(bdrs):
    """The call step waiting on the lead moves from Ann to Bob with the lead; a task Ann
    added by hand stays hers."""
    ann, bob = bdrs
    lead = request("jo@firm.com")
    cadence = SequenceFactory(steps=0, name="Inbound")
    SequenceStepFactory(sequence=cadence, position=1, day_offset=0, type="auto_email")
    SequenceStepFactory(sequence=cadence, position=2, day_offset=1, type="call")
    sequences.add_step_tasks([EnrollmentFactory(lead=lead, sequence=cadence, current_step=1)])
    own = work.add_task(lead, ann, "Send the deck", "email", timezone.now() + timedelta(hours=1))
    assert Task.objects.get(lead=lead, enrollment__isnull=False).owner == ann
    check_sla(MONDAY_4PM)

    assert check_sla(TUESDAY_4PM)["reassigned"] == 1

    assert Task.objects.get(lead=lead, enrollment__isnull=False).owner == bob
    assert Task.objects.get(pk=own.pk).owner == ann
