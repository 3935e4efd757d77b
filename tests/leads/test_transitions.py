"""Every pair of statuses: the allowed ones move and leave a history row, the rest are
refused with a message naming both, and nothing is written."""

from __future__ import annotations

import itertools

import pytest

from leads import lifecycle
from leads.models import Cause, Lead, RecycleReason, Status, StatusChange, UnqualifiedReason
from sdrcrm.errors import Refused
from sdrcrm.models import Role
from tests.factories import ContactFactory, LeadFactory, UserFactory

S = Status
# docs/rules.md §3, written out again on purpose: the test must not read the map it checks.
ALLOWED = {
    (S.RAW, S.INQUIRY), (S.RAW, S.MQL), (S.INQUIRY, S.MQL), (S.RECYCLE, S.MQL), (S.UNRESPONSIVE, S.MQL),
    (S.RAW, S.ACCEPTED), (S.INQUIRY, S.ACCEPTED), (S.MQL, S.ACCEPTED), (S.RECYCLE, S.ACCEPTED),
    (S.UNRESPONSIVE, S.ACCEPTED),
    (S.ACCEPTED, S.QUALIFYING),
    (S.RAW, S.RECYCLE), (S.INQUIRY, S.RECYCLE), (S.MQL, S.RECYCLE), (S.ACCEPTED, S.RECYCLE),
    (S.QUALIFYING, S.RECYCLE),
    (S.ACCEPTED, S.UNRESPONSIVE),
    (S.BAD_DATA, S.ACCEPTED),
    (S.UNQUALIFIED, S.RAW),
}
OPEN = [S.RAW, S.INQUIRY, S.MQL, S.ACCEPTED, S.QUALIFYING, S.RECYCLE, S.UNRESPONSIVE]
for status in OPEN:
    ALLOWED |= {(status, S.UNQUALIFIED), (status, S.BAD_DATA), (status, S.WEB_PORTAL_PURCHASE)}
REASONS = {S.RECYCLE: RecycleReason.NOT_READY, S.UNQUALIFIED: UnqualifiedReason.NOT_A_FIT}
PAIRS = [(old, new) for old, new in itertools.product(Status, Status) if old != new]


@pytest.mark.django_db
@pytest.mark.parametrize(("old", "new"), sorted(p for p in PAIRS if p in ALLOWED))
def test_allowed_transition_moves_and_records_history(old, new):
    manager = UserFactory(role=Role.SDR_MANAGER)
    lead = LeadFactory(status=old)

    moved = lifecycle.transition(lead, new, reason=REASONS.get(new, ""), by=manager)

    assert moved is True
    lead.refresh_from_db()
    assert lead.status == new
    change = StatusChange.objects.get(lead=lead)
    assert (change.old, change.new, change.cause, change.by) == (old, new, Cause.MANUAL, manager)


@pytest.mark.django_db
@pytest.mark.parametrize(("old", "new"), sorted(p for p in PAIRS if p not in ALLOWED))
def test_refused_transition_names_both_statuses_and_writes_nothing(old, new):
    lead = LeadFactory(status=old)

    with pytest.raises(Refused) as refused:
        lifecycle.transition(lead, new, reason=REASONS.get(new, "other"), by=UserFactory(role=Role.OPS))

    if new != S.QUALIFIED:
        assert S(old).label in refused.value.message and S(new).label in refused.value.message
    else:
        assert "converting" in refused.value.message
    lead.refresh_from_db()
    assert lead.status == old
    assert not StatusChange.objects.exists()


@pytest.mark.django_db
@pytest.mark.parametrize("new", [S.RECYCLE, S.UNQUALIFIED])
def test_recycle_and_unqualified_need_a_reason_from_their_list(new):
    lead = LeadFactory(status=S.MQL)
    for bad in ("", "because"):
        with pytest.raises(Refused) as refused:
            lifecycle.transition(lead, new, reason=bad)
        assert refused.value.field == "reason"
    lead.refresh_from_db()
    assert lead.status == S.MQL


@pytest.mark.django_db
@pytest.mark.parametrize("new", [S.RECYCLE, S.UNQUALIFIED])
def test_every_reason_of_the_list_is_taken(new):
    reasons = RecycleReason if new == S.RECYCLE else UnqualifiedReason
    for reason in reasons.values:
        lead = LeadFactory(status=S.MQL)
        assert lifecycle.transition(lead, new, reason=reason)
        assert Lead.objects.get(pk=lead.pk).status_reason == reason


@pytest.mark.django_db
def test_a_status_that_does_not_exist_is_refused():
    lead = LeadFactory(status=S.MQL)
    with pytest.raises(Refused, match="'archived' is not a status"):
        lifecycle.transition(lead, "archived")
    assert Lead.objects.get(pk=lead.pk).status == S.MQL


@pytest.mark.django_db
@pytest.mark.parametrize("role", [Role.SDR, Role.BDR])
def test_only_managers_and_ops_reopen_unqualified(role):
    lead = LeadFactory(status=S.UNQUALIFIED)
    with pytest.raises(Refused):
        lifecycle.transition(lead, S.RAW, by=UserFactory(role=role))
    assert lifecycle.transition(lead, S.RAW, by=UserFactory(role=Role.OPS)) is True


@pytest.mark.django_db
def test_mql_sets_mql_at_once_and_last_mql_at_every_time():
    lead = LeadFactory(status=S.RAW)
    lifecycle.transition(lead, S.MQL, cause=Cause.SCORE)
    first = Lead.objects.get(pk=lead.pk)
    first_mql_at, first_last_mql_at = first.mql_at, first.last_mql_at
    lifecycle.transition(first, S.RECYCLE, reason=RecycleReason.NOT_READY)
    lifecycle.transition(first, S.MQL, cause=Cause.SCORE)

    again = Lead.objects.get(pk=lead.pk)
    assert first_mql_at is not None
    assert again.mql_at == first_mql_at
    assert again.last_mql_at > first_last_mql_at


@pytest.mark.django_db
def test_a_repeated_transition_from_a_stale_copy_changes_nothing_twice():
    lead = LeadFactory(status=S.MQL)
    stale = Lead.objects.get(pk=lead.pk)
    assert lifecycle.transition(lead, S.ACCEPTED) is True

    # The stale copy still says MQL; the conditional update finds nothing to change.
    assert lifecycle.transition(stale, S.ACCEPTED) is False
    assert StatusChange.objects.filter(lead=lead).count() == 1


@pytest.mark.django_db
def test_contacts_follow_the_same_status_map():
    contact = ContactFactory(status=S.MQL)
    assert lifecycle.transition(contact, S.ACCEPTED) is True
    assert StatusChange.objects.get(contact=contact).new == S.ACCEPTED
    with pytest.raises(Refused):
        lifecycle.transition(contact, S.RAW)
