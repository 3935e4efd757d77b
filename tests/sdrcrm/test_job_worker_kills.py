"""A Celery worker SIGKILLed in the middle of each periodic job: the job resumes, and
nothing is lost or done twice (docs/architecture.md, "Reliability").

For every job a real worker (batches of 3) runs the job for a fixed slot over 9 rows
it must handle. The test holds a row lock on a row of the second batch, so the job
stalls there with the first batch committed; it kills the worker's main process (its
child running the job dies with it, and PostgreSQL rolls the second batch back),
releases the lock and starts a new worker. The job's message comes back through Redis's
visibility timeout, the redelivered task takes the slot's stale run over, and the run
finishes: every row handled exactly once, and the resumed run's counts show it did only
what the killed one had not committed.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path

import pytest
from django.db.models import Count
from django.utils import timezone

from leads import queues
from leads.models import (
    Account,
    Activity,
    BlockedDomain,
    Cause,
    Enrollment,
    Import,
    ImportRow,
    Lead,
    Queue,
    QueueTally,
    SequenceEvent,
    Status,
    StatusChange,
    Tombstone,
)
from opportunities.models import Opportunity
from scoring import services as scoring
from scoring.models import ScoreEntry, ScoringRule, ScoringRuleChange
from sdrcrm.jobs import JOBS
from sdrcrm.models import (
    IdempotentRequest,
    JobRun,
    Notification,
    Role,
    WebhookDelivery,
    WebhookEndpoint,
    WebhookEvent,
    active_prospectors,
)
from sdrcrm.tasks import run_job_task
from tests.factories import (
    AccountFactory,
    ActivityFactory,
    EnrollmentFactory,
    IQMFactory,
    LeadFactory,
    OpportunityFactory,
    SequenceFactory,
    TeamFactory,
    UserFactory,
)
from tests.sdrcrm.test_webhooks import Receiver
from tests.workers import Workers, lock_waiters, workers_for

pytestmark = [pytest.mark.worker, pytest.mark.django_db(transaction=True), pytest.mark.usefixtures("seeded")]

BATCH = 3
ROWS = 9  # three batches
MINUTE = timedelta(minutes=1)
DAY = timedelta(days=1)
# The killed worker's job message comes back after this many seconds (the new worker
# scans for expired unacked messages every second), and the new worker takes a run over
# once it has been "running" for longer than a second.
VISIBILITY = 5
WORKER_ENV = {"JOB_BATCH_SIZE": str(BATCH), "TRASH_PURGE_BATCH": str(BATCH), "JOB_STALE_AFTER_SECONDS": "1"}


@dataclass
class Scenario:
    lock: tuple[str, int]  # a row the job's second batch writes: (table, id)
    progress: Callable[[], int]  # rows handled so far
    resumed: dict[str, int]  # what the resumed run counts: only what was left
    check: Callable[[], None]  # the end state, exactly
    stalled_at: int = BATCH
    total: int = ROWS
    settled: Callable[[], bool] = lambda: True  # follow-up tasks the job sent are done


def in_order(count: int, latest: datetime, step: timedelta = MINUTE) -> list[datetime]:
    """`count` moments up to `latest`, oldest first: the order the jobs take rows in."""
    return [latest - (count - n) * step for n in range(count)]


def active_passive(now: datetime) -> Scenario:
    leads = [LeadFactory(is_passive=False, active_until=at) for at in in_order(ROWS, now)]
    active = LeadFactory(is_passive=False, active_until=now + DAY)
    ids = [lead.pk for lead in leads]

    def check() -> None:
        assert Lead.objects.filter(pk__in=ids, is_passive=True).count() == ROWS
        assert Lead.objects.get(pk=active.pk).is_passive is False

    return Scenario(("leads_lead", ids[4]), lambda: Lead.objects.filter(pk__in=ids, is_passive=True).count(),
                    {"passive": 6}, check)


def sla_breaches(now: datetime) -> Scenario:
    manager = UserFactory(role=Role.SDR_MANAGER)
    owner = UserFactory(team=TeamFactory(manager=manager))
    leads = [LeadFactory(owner=owner, status=Status.MQL, sla_due_at=at, sla_pool="") for at in in_order(ROWS, now)]
    ids = [lead.pk for lead in leads]
    breached = Lead.objects.filter(pk__in=ids, sla_breached_at=now)

    def check() -> None:
        assert breached.count() == ROWS
        alerts = Notification.objects.filter(kind=Notification.Kind.SLA_BREACH)
        assert sorted(alerts.values_list("lead_id", "user_id")) == sorted(
            (pk, user.pk) for pk in ids for user in (owner, manager))

    return Scenario(("leads_lead", ids[4]), breached.count,
                    {"breached": 6, "reassigned": 0, "kept": 0, "unassigned": 0, "dropped": 0}, check)


def inquiry_queue(now: datetime) -> Scenario:
    owner = UserFactory()
    leads = [LeadFactory(owner=owner, status=Status.INQUIRY, status_changed_at=at)
             for at in in_order(ROWS, now - DAY)]
    ids = [lead.pk for lead in leads]
    queued = Lead.objects.filter(pk__in=ids, queue__name=Queue.INQUIRY, owner=None)

    def check() -> None:
        assert queued.count() == ROWS

    return Scenario(("leads_lead", ids[4]), queued.count, {"queued": 6, "owners_cleared": 6}, check)


def spam_deletion(now: datetime) -> Scenario:
    leads = [LeadFactory(email=f"someone@spam{n}.test", status=Status.UNQUALIFIED, spam_marked_at=at,
                         spam_block_domain=True) for n, at in enumerate(in_order(ROWS, now))]
    ids = [lead.pk for lead in leads]
    activities = [ActivityFactory(lead=lead).pk for lead in leads]

    def check() -> None:
        assert not Lead.objects.filter(pk__in=ids).exists()
        assert not Activity.objects.filter(pk__in=activities).exists()
        assert sorted(Tombstone.objects.values_list("original_id", flat=True)) == ids
        assert sorted(BlockedDomain.objects.values_list("domain", flat=True)) == [f"spam{n}.test" for n in range(ROWS)]

    # The deletion cascades to the leads' activities: the second batch waits on one.
    return Scenario(("leads_activity", activities[4]), lambda: ROWS - Lead.objects.filter(pk__in=ids).count(),
                    {"deleted": 6, "tombstones": 6, "domains_blocked": 6}, check)


def targeted_accounts(now: datetime) -> Scenario:
    sdr = UserFactory()
    accounts = [AccountFactory(name=f"Quiet {n}", targeted=True, targeted_by=sdr, targeted_at=now - 60 * DAY)
                for n in range(ROWS)]
    ids = [account.pk for account in accounts]
    unflagged = Account.objects.filter(pk__in=ids, targeted=False)

    def check() -> None:
        assert unflagged.count() == ROWS
        told = Notification.objects.filter(kind=Notification.Kind.TARGETED_UNFLAGGED, user=sdr)
        assert sorted(message.split(" was ")[0] for message in told.values_list("message", flat=True)) == [
            f"Account Quiet {n}" for n in range(ROWS)]

    return Scenario(("leads_account", ids[4]), unflagged.count, {"unflagged": 6, "notified": 6}, check)


def unresponsive(now: datetime) -> Scenario:
    enrollments = [
        EnrollmentFactory(lead__status=Status.ACCEPTED, state=Enrollment.State.FINISHED,
                          finish_reason=Enrollment.FinishReason.COMPLETED, finished_at=at, enrolled_at=at - 10 * DAY)
        for at in in_order(ROWS, now - 8 * DAY)
    ]
    ids = [enrollment.lead_id for enrollment in enrollments]
    moved = Lead.objects.filter(pk__in=ids, status=Status.UNRESPONSIVE)

    def check() -> None:
        assert moved.count() == ROWS
        changes = StatusChange.objects.filter(lead__in=ids)
        assert sorted(changes.values_list("lead_id", "old", "new", "cause")) == [
            (pk, Status.ACCEPTED, Status.UNRESPONSIVE, Cause.JOB) for pk in sorted(ids)]
        assert not Enrollment.objects.filter(lead__in=ids, followed_up_at=None).exists()

    # The second batch's first lead moves, then the one after waits on its lock.
    return Scenario(("leads_lead", ids[4]), moved.count, {"checked": 6, "moved": 6}, check)


def sequence_events(now: datetime) -> Scenario:
    owner = UserFactory()
    sequence = SequenceFactory(steps=3)
    enrollments = [EnrollmentFactory(sequence=sequence, lead__status=Status.MQL, lead__owner=owner)
                   for _ in range(ROWS)]
    events = SequenceEvent.objects.bulk_create(
        SequenceEvent(enrollment=enrollment, kind=SequenceEvent.Kind.STEP_COMPLETED, step=1, occurred_at=now)
        for enrollment in enrollments
    )
    ids = [event.pk for event in events]
    # Stored ten minutes ago and never applied: their tasks were lost.
    SequenceEvent.objects.filter(pk__in=ids).update(received_at=now - 10 * MINUTE)
    leads = [enrollment.lead_id for enrollment in enrollments]

    def check() -> None:
        changes = StatusChange.objects.filter(lead__in=leads)
        assert sorted(changes.values_list("lead_id", "old", "new")) == [
            (pk, Status.MQL, Status.ACCEPTED) for pk in sorted(leads)]

    return Scenario(
        ("leads_sequenceevent", ids[4]), SequenceEvent.objects.filter(pk__in=ids, requeued_at=now).count,
        {"requeued": 6}, check,
        settled=lambda: SequenceEvent.objects.filter(pk__in=ids, applied_at__isnull=False).count() == ROWS,
    )


def stale_opportunities(now: datetime) -> Scenario:
    opportunities = []
    for at in in_order(ROWS, now - 100 * timedelta(hours=1)):
        opportunity = OpportunityFactory(stage_changed_at=at)
        IQMFactory(opportunity=opportunity, start=now - 3 * DAY, end=now - 3 * DAY + 30 * MINUTE)
        opportunities.append(opportunity)
    ids = [opportunity.pk for opportunity in opportunities]
    reminded = Opportunity.objects.filter(pk__in=ids, stale_reminded_at=now)

    def check() -> None:
        assert reminded.count() == ROWS
        notes = Notification.objects.filter(kind=Notification.Kind.STALE_OPPORTUNITY)
        assert sorted(notes.values_list("opportunity_id", "user_id")) == sorted(
            (o.pk, o.owner_id) for o in opportunities)

    return Scenario(("opportunities_opportunity", ids[4]), reminded.count, {"reminded": 6, "flagged": 0}, check)


def idempotency_keys(now: datetime) -> Scenario:
    user = UserFactory()
    rows = [IdempotentRequest(user=user, key=f"old-{n}", endpoint="POST /api/v1/leads/", body_hash="0" * 64,
                              status=201, response={}, created_at=at)
            for n, at in enumerate(in_order(ROWS, now - 2 * DAY))]
    rows += [IdempotentRequest(user=user, key=f"new-{n}", endpoint="POST /api/v1/leads/", body_hash="0" * 64,
                               status=201, response={}, created_at=now - MINUTE) for n in range(2)]
    ids = [row.pk for row in IdempotentRequest.objects.bulk_create(rows)]
    old = IdempotentRequest.objects.filter(key__startswith="old-")

    def check() -> None:
        assert not old.exists()
        assert sorted(IdempotentRequest.objects.values_list("key", flat=True)) == ["new-0", "new-1"]

    return Scenario(("sdrcrm_idempotentrequest", ids[4]), lambda: ROWS - old.count(), {"deleted": 6}, check)


def rescores(now: datetime, monkeypatch: pytest.MonkeyPatch) -> Scenario:
    rules = [ScoringRule.objects.get(activity_type=kind) for kind in
             ("pricing_page_visit", "features_page_visit", "webcast_registered")]
    leads = [LeadFactory(title="Analyst") for _ in range(3)]
    for lead in leads:
        for rule in rules:
            ActivityFactory(lead=lead, type=rule.activity_type)
        scoring.rescore(lead)
    # The rule changes' tasks are lost (a killed worker), and their re-scores stalled.
    with monkeypatch.context() as patch:
        patch.setattr(scoring, "enqueue", lambda *args, **kwargs: None)
        for rule in rules:
            scoring.update_rule(rule, {"points": rule.points + 7}, by=None)
    changes = list(ScoringRuleChange.objects.order_by("id").values_list("id", flat=True))
    for n, change in enumerate(changes):
        ScoringRuleChange.objects.filter(pk=change).update(progressed_at=now - (10 - n) * MINUTE)
    lead_ids = [lead.pk for lead in leads]

    def check() -> None:
        corrections = ScoreEntry.objects.filter(lead__in=lead_ids, rule_version=2)
        doubled = corrections.values("lead", "rule_key").annotate(n=Count("id")).filter(n__gt=1)
        assert not doubled.exists()
        assert sorted(corrections.values_list("lead_id", "rule_key")) == sorted(
            (pk, rule.key) for pk in lead_ids for rule in rules)

    return Scenario(
        # Claimed by the job (progressed_at = now) or progressed since.
        ("scoring_scoringrulechange", changes[1]), ScoringRuleChange.objects.filter(progressed_at__gte=now).count,
        {"requeued": 2}, check, stalled_at=1, total=3,
        settled=lambda: not ScoringRuleChange.objects.filter(rescored_at=None).exists(),
    )


def queue_counts(now: datetime) -> Scenario:
    # One transaction: the killed run leaves the last minute's count whole, the next
    # replaces it whole.
    team = TeamFactory()
    sdrs = [UserFactory(role=Role.SDR, team=team) for _ in range(3)]
    for n in range(ROWS):
        LeadFactory(owner=sdrs[n % 3], status=Status.MQL)
    queues.count_queues(now - MINUTE)
    figures, sdr_count = QueueTally.objects.count(), active_prospectors().count()
    counted = QueueTally.objects.filter(counted_at=now)

    def check() -> None:
        assert QueueTally.objects.count() == figures == counted.count()
        assert [QueueTally.objects.get(owner=sdr, key="my_mqls").count for sdr in sdrs] == [3, 3, 3]

    return Scenario(("leads_queuetally", QueueTally.objects.filter(owner=sdrs[1]).first().pk), counted.count,
                    {"sdrs": sdr_count, "figures": figures}, check, stalled_at=0, total=figures)


def trash_purge(now: datetime) -> Scenario:
    # Leads deleted 31 days ago, oldest first; each with an activity the purge's cascade deletes.
    leads = [LeadFactory() for _ in range(ROWS)]
    ids = [lead.pk for lead in leads]
    Lead.all_objects.filter(pk__in=ids).update(deleted_at=now - 31 * DAY)
    activities = [ActivityFactory(lead=lead).pk for lead in leads]

    def check() -> None:
        assert not Lead.all_objects.filter(pk__in=ids).exists()
        assert not Activity.objects.filter(pk__in=activities).exists()

    # The second batch's cascade waits on a locked activity.
    return Scenario(("leads_activity", activities[4]), lambda: ROWS - Lead.all_objects.filter(pk__in=ids).count(),
                    {"opportunity": 0, "contact": 0, "lead": 6, "account": 0}, check)


def history_prune(now: datetime) -> Scenario:
    # Imports finished 91 days ago, one row each; the job clears one import a transaction,
    # oldest id first, and the fourth's mark waits on its locked row.
    records = [Import.objects.create(file_name=f"list-{n}.csv", sha256="0" * 64, size=1, state=Import.State.FINISHED)
               for n in range(ROWS)]
    ids = [record.pk for record in records]
    Import.objects.filter(pk__in=ids).update(finished_at=now - 91 * DAY)
    ImportRow.objects.bulk_create(ImportRow(batch=record, line=2, values=["x"]) for record in records)
    cleared = Import.objects.filter(pk__in=ids, rows_cleared_at__isnull=False)

    def check() -> None:
        assert cleared.filter(rows_cleared_at=now).count() == ROWS
        assert not ImportRow.objects.filter(batch_id__in=ids).exists()

    return Scenario(("leads_import", ids[BATCH]), cleared.count,
                    {"job_runs_deleted": 0, "imports_cleared": 6, "rows_deleted": 6, "checked_deleted": 0}, check)


def webhook_deliveries(now: datetime) -> Scenario:
    # Deliveries due ten minutes ago and never tried: their tasks were lost. The job sends
    # them again and a worker delivers each, once, to a local receiver.
    receiver = Receiver()
    endpoint = WebhookEndpoint.objects.create(url=receiver.url, secret="s" * 32, events=["lead.created"])
    events = WebhookEvent.objects.bulk_create(WebhookEvent(kind="lead.created", payload={"id": n}) for n in range(ROWS))
    deliveries = WebhookDelivery.objects.bulk_create(
        WebhookDelivery(event=event, endpoint=endpoint, next_attempt_at=now - 10 * MINUTE) for event in events)
    ids = [delivery.pk for delivery in deliveries]

    def check() -> None:
        receiver.close()
        sent = sorted(request["headers"]["X-Event-Id"] for request in receiver.received)
        assert sent == sorted(str(event.pk) for event in events)  # each event once
        assert WebhookDelivery.objects.filter(pk__in=ids, state="delivered", attempts=1).count() == ROWS

    return Scenario(
        ("sdrcrm_webhookdelivery", ids[4]), WebhookDelivery.objects.filter(pk__in=ids, requeued_at=now).count,
        {"requeued": 6}, check,
        settled=lambda: WebhookDelivery.objects.filter(pk__in=ids, state="delivered").count() == ROWS,
    )


SCENARIOS: dict[str, Callable[..., Scenario]] = {
    "active_passive": active_passive,
    "sla_breaches": sla_breaches,
    "inquiry_queue": inquiry_queue,
    "spam_deletion": spam_deletion,
    "targeted_accounts": targeted_accounts,
    "unresponsive": unresponsive,
    "sequence_events": sequence_events,
    "stale_opportunities": stale_opportunities,
    "idempotency_keys": idempotency_keys,
    "rescores": rescores,
    "queue_counts": queue_counts,
    "webhook_deliveries": webhook_deliveries,
    "trash_purge": trash_purge,
    "history_prune": history_prune,
}


def test_every_job_has_a_kill_scenario() -> None:
    assert sorted(SCENARIOS) == sorted(JOBS)


@pytest.mark.parametrize("job", sorted(SCENARIOS))
def test_a_job_whose_worker_is_killed_midway_resumes_and_does_nothing_twice(
    job: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    now = timezone.now().replace(second=0, microsecond=0)
    build = SCENARIOS[job]
    scenario = build(now, monkeypatch) if job == "rescores" else build(now)
    with workers_for(tmp_path, job.replace("_", "")) as workers:
        table, row = scenario.lock
        workers.lock(table, [row])
        first = workers.start(VISIBILITY, concurrency=1, **WORKER_ENV)
        run_job_task.apply_async(args=(job, now.isoformat()), queue=workers.queue)
        workers.wait_for(lambda: lock_waiters() == 1, 60, f"{job} to stall on the locked row")
        assert scenario.progress() == scenario.stalled_at, "the first batch committed, the rest waits"

        workers.kill(first)
        release(workers)
        assert JobRun.objects.get(name=job).state == JobRun.State.RUNNING  # it died with its worker
        assert scenario.progress() == scenario.stalled_at, "the killed batch was rolled back"

        workers.start(VISIBILITY, **WORKER_ENV)
        workers.wait_for(lambda: JobRun.objects.get(name=job).state != JobRun.State.RUNNING, 60,
                         f"the redelivered {job} to finish")
        workers.wait_for(scenario.settled, 60, f"the tasks {job} sent to be done")
        workers.wait_for(lambda: workers.pending() == 0, 30, "the queue to drain")

    run = JobRun.objects.get(name=job)
    assert (run.state, run.slot, run.counts) == (JobRun.State.SUCCEEDED, now, scenario.resumed)
    assert scenario.progress() == scenario.total
    scenario.check()


def release(workers: Workers) -> None:
    for lock in workers.locks:
        lock.release()
