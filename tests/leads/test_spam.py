"""Spam (docs/rules.md §3): marking a lead, the nightly spam_deletion job, its tombstones and the
block list, and who may mark what."""

from __future__ import annotations

import hashlib
from datetime import UTC, datetime, timedelta

import pytest
from django.core.management import call_command
from django.db import models
from django.test import Client

from leads import services
from leads.models import (
    Activity,
    BlockedDomain,
    Enrollment,
    Lead,
    Queue,
    Sequence,
    SequenceEvent,
    Status,
    StatusChange,
    Tombstone,
    Touch,
)
from leads.spam import delete_marked_spam, mark_spam
from routing.models import RoutingDecision
from scoring.models import ScoreEntry
from sdrcrm.errors import Refused
from sdrcrm.jobs import run_job
from sdrcrm.models import JobRun, Notification, Role
from tests.factories import ActivityFactory, ContactFactory, EnrollmentFactory, LeadFactory, UserFactory

pytestmark = pytest.mark.django_db

# 00:05 in Los Angeles on 15 January 2026 (PST).
NOW = datetime(2026, 1, 15, 8, 5, tzinfo=UTC)
SECOND = timedelta(seconds=1)


def marked_lead(by=None, at=NOW - timedelta(hours=3), block=False, **fields) -> Lead:
    return LeadFactory(status=Status.UNQUALIFIED, status_reason="spam", spam_marked_at=at, spam_marked_by=by,
                       spam_block_domain=block, **fields)


# --- Marking ----------------------------------------------------------------------------

def test_marking_an_open_lead_closes_it_as_unqualified_spam(sdr):
    lead = LeadFactory(status=Status.MQL, owner=sdr)

    assert mark_spam(lead, by=sdr, block_domain=True, now=NOW) is True

    lead.refresh_from_db()
    assert (lead.spam_marked_at, lead.spam_marked_by, lead.spam_block_domain) == (NOW, sdr, True)
    assert (lead.status, lead.status_reason) == (Status.UNQUALIFIED, "spam")
    change = StatusChange.objects.get(lead=lead)
    assert (change.old, change.new, change.reason, change.by) == (Status.MQL, Status.UNQUALIFIED, "spam", sdr)


def test_marking_finishes_the_leads_active_enrolments(sdr):
    lead = LeadFactory(status=Status.ACCEPTED, owner=sdr)
    enrollment = EnrollmentFactory(lead=lead)

    mark_spam(lead, by=sdr, block_domain=False, now=NOW)

    enrollment.refresh_from_db()
    assert (enrollment.state, enrollment.finish_reason, enrollment.finished_at) == ("finished", "manual", NOW)


def test_marking_again_keeps_the_first_mark_and_takes_the_new_block_choice(sdr, manager):
    lead = LeadFactory(status=Status.RAW, owner=sdr)
    mark_spam(lead, by=sdr, block_domain=False, now=NOW)

    assert mark_spam(lead, by=manager, block_domain=True, now=NOW + timedelta(hours=1)) is False

    lead.refresh_from_db()
    assert (lead.spam_marked_at, lead.spam_marked_by, lead.spam_block_domain) == (NOW, sdr, True)
    assert StatusChange.objects.filter(lead=lead).count() == 1


def test_a_closed_lead_is_marked_without_a_status_change(sdr):
    lead = LeadFactory(status=Status.BAD_DATA, owner=sdr)

    mark_spam(lead, by=sdr, block_domain=False, now=NOW)

    lead.refresh_from_db()
    assert lead.spam_marked_at == NOW and lead.status == Status.BAD_DATA
    assert not StatusChange.objects.filter(lead=lead).exists()


def test_blocking_a_free_mail_domain_is_refused(sdr):
    lead = LeadFactory(email="spammer@gmail.com", owner=sdr)

    with pytest.raises(Refused, match="free-mail"):
        mark_spam(lead, by=sdr, block_domain=True, now=NOW)
    assert Lead.objects.get(pk=lead.pk).spam_marked_at is None


def test_a_converted_lead_cannot_be_marked(sdr):
    lead = LeadFactory(status=Status.QUALIFIED, owner=sdr, converted_to=ContactFactory())
    with pytest.raises(Refused, match="converted"):
        mark_spam(lead, by=sdr, block_domain=False, now=NOW)


# --- The spam_deletion job ----------------------------------------------------------------

def test_leads_marked_before_now_are_deleted_and_later_marks_wait(sdr):
    before = marked_lead(by=sdr, at=NOW - SECOND)
    at_now = marked_lead(by=sdr, at=NOW)
    unmarked = LeadFactory()

    counts = delete_marked_spam(NOW)

    assert counts == {"deleted": 1, "tombstones": 1, "domains_blocked": 0}
    assert not Lead.objects.filter(pk=before.pk).exists()
    assert set(Lead.objects.values_list("pk", flat=True)) == {at_now.pk, unmarked.pk}


def test_the_tombstone_keeps_a_hash_of_the_email_never_the_email(sdr):
    lead = marked_lead(by=sdr, email="jane.doe@spamco.io")
    marked_at = lead.spam_marked_at

    delete_marked_spam(NOW)

    stone = Tombstone.objects.get()
    assert stone.kind == Tombstone.Kind.SPAM and stone.original_id == lead.pk
    assert stone.email_hash == hashlib.sha256(b"jane.doe@spamco.io").hexdigest()
    assert (stone.email_domain, stone.marked_by, stone.marked_at) == ("spamco.io", sdr, marked_at)
    assert stone.deleted_at == NOW
    stored = " ".join(str(value) for value in Tombstone.objects.values().get().values())
    assert "jane.doe" not in stored


def test_the_hash_is_of_the_lower_cased_email(sdr):
    lead = marked_lead(by=sdr)
    Lead.objects.filter(pk=lead.pk).update(email="Mixed.Case@SpamCo.io")

    delete_marked_spam(NOW)

    assert Tombstone.objects.get().email_hash == hashlib.sha256(b"mixed.case@spamco.io").hexdigest()


def test_nothing_protects_a_lead_from_deletion():
    blockers = [rel for rel in Lead._meta.related_objects
                if rel.on_delete in (models.PROTECT, models.RESTRICT)]
    assert blockers == []


def test_everything_hanging_off_the_lead_goes_with_it(ops):
    # Ingested and routed for real: status history, score ledger, routing decision and,
    # with nobody in the pool, a notification to ops.
    lead = services.ingest_lead({"email": "bot@spamco.io", "last_name": "Bot", "country": "US", "state": "NY",
                                 "employee_count": 500, "initial_source": "web_direct"}, by=None, now=NOW).lead
    services.record_activity(lead, "contact_request", now=NOW - timedelta(hours=2))
    sequence = Sequence.objects.create(name="Inbound", touch=Touch.HIGH)
    enrollment = Enrollment.objects.create(sequence=sequence, lead=lead, enrolled_at=NOW - timedelta(hours=2))
    SequenceEvent.objects.create(enrollment=enrollment, kind="step_completed", step=1, occurred_at=NOW)
    bystander = ActivityFactory()
    related = [Activity, StatusChange, ScoreEntry, RoutingDecision, Notification, Enrollment]
    assert all(model.objects.filter(lead=lead).exists() for model in related)
    mark_spam(Lead.objects.get(pk=lead.pk), by=ops, block_domain=False, now=NOW - timedelta(hours=1))

    delete_marked_spam(NOW)

    assert not any(model.objects.filter(lead_id=lead.pk).exists() for model in related)
    assert not SequenceEvent.objects.filter(enrollment_id=enrollment.pk).exists()
    assert Sequence.objects.filter(pk=sequence.pk).exists()
    assert Activity.objects.filter(pk=bystander.pk).exists()


def test_a_marked_domain_is_blocked_and_ingest_from_it_then_answers_400(api, sdr, integration):
    marked_lead(by=sdr, email="a@spamco.io", block=True)
    marked_lead(by=sdr, email="b@spamco.io", block=True)

    counts = delete_marked_spam(NOW)

    assert counts["domains_blocked"] == 1
    blocked = BlockedDomain.objects.get()
    assert (blocked.domain, blocked.created_by) == ("spamco.io", sdr)
    response = api.as_user(integration).post("/api/v1/leads/", {"email": "c@SpamCo.io", "last_name": "C",
                                                                "initial_source": "web_direct"}, format="json")
    assert response.status_code == 400
    assert "'spamco.io' is on the ops block list" in response.json()["detail"]
    assert not Lead.objects.filter(email="c@spamco.io").exists()


def test_without_the_block_choice_the_domain_stays_open(api, sdr, integration):
    marked_lead(by=sdr, email="a@honest.io", block=False)

    delete_marked_spam(NOW)

    assert not BlockedDomain.objects.exists()
    response = api.as_user(integration).post("/api/v1/leads/", {"email": "b@honest.io", "last_name": "B",
                                                                "initial_source": "web_direct"}, format="json")
    assert response.status_code == 201


def test_free_mail_is_never_blocked_and_a_known_block_is_no_error(sdr):
    marked_lead(by=sdr, email="x@gmail.com", block=True)  # set behind mark_spam's back
    BlockedDomain.objects.create(domain="spamco.io", reason="by hand")
    marked_lead(by=sdr, email="y@spamco.io", block=True)

    assert delete_marked_spam(NOW) == {"deleted": 2, "tombstones": 2, "domains_blocked": 0}
    assert list(BlockedDomain.objects.values_list("domain", "reason")) == [("spamco.io", "by hand")]


def test_deletes_in_batches(settings, sdr):
    settings.JOB_BATCH_SIZE = 2
    for _ in range(5):
        marked_lead(by=sdr)

    assert delete_marked_spam(NOW)["deleted"] == 5
    assert Tombstone.objects.count() == 5 and not Lead.objects.exists()


def test_running_the_job_again_changes_nothing(sdr):
    marked_lead(by=sdr, block=True)
    delete_marked_spam(NOW)

    assert delete_marked_spam(NOW) == {"deleted": 0, "tombstones": 0, "domains_blocked": 0}
    assert Tombstone.objects.count() == 1 and BlockedDomain.objects.count() == 1


def test_a_rerun_for_the_same_slot_is_a_no_op(sdr):
    marked_lead(by=sdr)
    first = run_job("spam_deletion", NOW)
    late = marked_lead(by=sdr, at=NOW - timedelta(minutes=10))  # marked earlier, arrived after the run
    second = run_job("spam_deletion", NOW)

    assert second.pk == first.pk and first.counts["deleted"] == 1
    assert Lead.objects.filter(pk=late.pk).exists()


def test_run_job_command_runs_it_with_an_explicit_clock(capsys, sdr):
    lead = marked_lead(by=sdr)

    call_command("run_job", "spam_deletion", "--now", "2026-01-15T08:05:00Z")

    assert JobRun.objects.get(name="spam_deletion").counts == {"deleted": 1, "tombstones": 1, "domains_blocked": 0}
    assert not Lead.objects.filter(pk=lead.pk).exists()
    assert "succeeded" in capsys.readouterr().out


# --- The API action -----------------------------------------------------------------------

def spam_url(lead: Lead) -> str:
    return f"/api/v1/leads/{lead.pk}/spam/"


@pytest.mark.parametrize("who", ["sdr", "manager", "ops"])
def test_owner_their_manager_and_ops_mark_a_lead_as_spam(api, request, sdr, manager, ops, who):
    user = request.getfixturevalue(who)
    lead = LeadFactory(status=Status.MQL, owner=sdr, email="bot@spamco.io")

    response = api.as_user(user).post(spam_url(lead), {"block_domain": True}, format="json")

    assert response.status_code == 200
    assert response.json()["status"] == Status.UNQUALIFIED and response.json()["status_reason"] == "spam"
    lead.refresh_from_db()
    assert (lead.spam_marked_by, lead.spam_block_domain) == (user, True) and lead.spam_marked_at is not None


def test_block_domain_defaults_to_false(api, sdr):
    lead = LeadFactory(owner=sdr)
    assert api.as_user(sdr).post(spam_url(lead), {}, format="json").status_code == 200
    assert Lead.objects.get(pk=lead.pk).spam_block_domain is False


def test_a_teammate_may_read_but_not_mark_a_lead(api, sdr, teammate):
    lead = LeadFactory(owner=sdr)
    assert api.as_user(teammate).post(spam_url(lead), {}, format="json").status_code == 403
    assert Lead.objects.get(pk=lead.pk).spam_marked_at is None


def test_an_sdr_of_another_team_gets_404(api, sdr, other_sdr):
    lead = LeadFactory(owner=sdr)
    assert api.as_user(other_sdr).post(spam_url(lead), {}, format="json").status_code == 404
    assert Lead.objects.get(pk=lead.pk).spam_marked_at is None


def test_an_sdr_may_not_mark_a_queued_lead_nobody_owns(api, sdr):
    lead = LeadFactory(queue=Queue.objects.get(name=Queue.INQUIRY))
    response = api.as_user(sdr).post(spam_url(lead), {}, format="json")
    assert response.status_code == 403 and "owner" in response.json()["detail"]
    assert Lead.objects.get(pk=lead.pk).spam_marked_at is None


def test_an_integration_may_not_mark_the_leads_it_created(api, integration):
    lead = LeadFactory(created_by=integration)
    assert api.as_user(integration).post(spam_url(lead), {}, format="json").status_code == 403
    assert Lead.objects.get(pk=lead.pk).spam_marked_at is None


def test_a_free_mail_block_answers_400_naming_the_field(api, sdr):
    lead = LeadFactory(owner=sdr, email="x@gmail.com")
    response = api.as_user(sdr).post(spam_url(lead), {"block_domain": True}, format="json")
    assert response.status_code == 400 and "block_domain" in response.json()["errors"]
    assert Lead.objects.get(pk=lead.pk).spam_marked_at is None


def test_a_bad_block_domain_value_answers_400(api, sdr):
    lead = LeadFactory(owner=sdr)
    assert api.as_user(sdr).post(spam_url(lead), {"block_domain": "perhaps"}, format="json").status_code == 400
    assert Lead.objects.get(pk=lead.pk).spam_marked_at is None


# --- The page -----------------------------------------------------------------------------

def test_the_owner_marks_a_lead_as_spam_from_its_page(client, sdr):
    lead = LeadFactory(status=Status.MQL, owner=sdr, email="bot@spamco.io")
    client.force_login(sdr)
    assert "Mark as spam" in client.get(f"/leads/{lead.pk}/").content.decode()

    response = client.post(f"/leads/{lead.pk}/spam/", {"block_domain": "on"}, follow=True)

    assert response.redirect_chain[-1][0] == f"/leads/{lead.pk}/"
    page = response.content.decode()
    assert "Marked as spam: deleted for good tonight; spamco.io will be blocked." in page
    lead.refresh_from_db()
    assert lead.spam_marked_by == sdr and lead.spam_block_domain and lead.status == Status.UNQUALIFIED


def test_a_teammate_sees_no_spam_form_and_cannot_post_one(client, sdr, teammate):
    lead = LeadFactory(owner=sdr)
    client.force_login(teammate)
    assert "Mark as spam" not in client.get(f"/leads/{lead.pk}/").content.decode()

    response = client.post(f"/leads/{lead.pk}/spam/", follow=True)

    assert "may mark it as spam" in response.content.decode()
    assert Lead.objects.get(pk=lead.pk).spam_marked_at is None


def test_the_spam_form_needs_a_post_and_a_csrf_token(sdr):
    lead = LeadFactory(owner=sdr)
    client = Client(enforce_csrf_checks=True)
    client.force_login(sdr)

    assert client.get(f"/leads/{lead.pk}/spam/").status_code == 405
    assert client.post(f"/leads/{lead.pk}/spam/").status_code == 403
    assert Lead.objects.get(pk=lead.pk).spam_marked_at is None


def test_a_refusal_shows_as_a_message(client, sdr):
    lead = LeadFactory(owner=sdr, email="x@gmail.com")
    client.force_login(sdr)

    response = client.post(f"/leads/{lead.pk}/spam/", {"block_domain": "on"}, follow=True)

    assert "free-mail domain" in response.content.decode()


def test_a_marked_lead_page_says_when_it_goes(client, sdr):
    mara = UserFactory(role=Role.SDR_MANAGER, first_name="Mara", last_name="Lopez")
    lead = marked_lead(by=mara, owner=sdr, block=True, email="x@spamco.io")
    client.force_login(sdr)

    page = client.get(f"/leads/{lead.pk}/").content.decode()

    assert "by Mara Lopez" in page and "spamco.io blocked" in page and "Mark as spam" not in page
