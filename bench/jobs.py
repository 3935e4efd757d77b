"""The periodic jobs over the benchmark database (bench/run.py --jobs), run by run.py as a
subprocess with the benchmark's environment:

    python bench/jobs.py run      # give every job its share of work, then time each one

Before the timing, `prepare` puts a realistic share of qualifying rows in place, the same
on every run (each job consumed the last run's share):

- inquiry_queue: a third of the seeded inquiry leads (~5 % of all leads) owned and in no
  queue, a tenth of those in an active sequence (they stay); the other inquiries in the
  Inquiry Queue already. The timed SDR's own inquiries are all in a sequence, so her lead
  views keep their rows.
- spam_deletion: 1,000 new leads marked as spam an hour ago, each with two activities and
  a status change; one in ten asks for its (made-up, `.test`) domain to be blocked.
- targeted_accounts: 20,000 accounts, 2,000 of them targeted 60 days ago, each with five
  leads and two contacts whose activities are 40 days old or more; half of them also had
  one 3 days ago (they stay flagged).
- unresponsive (when the job exists): 10,000 Accepted leads whose sequence finished
  without a reply 8 days ago.
- active_passive: 10,000 leads whose active window ended but are not yet passive.
- sla_breaches: 1,000 overdue follow-ups, and 200 breached five days ago in a staffed pool
  (reassigned).

The rows spam_deletion deletes are ones prepare created; the seeded leads it changes keep
the column mix the other scenarios measure. Prints one JSON object as its last line.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from datetime import timedelta
from typing import Any

import seed  # bench/seed.py: setup_django and the bench users' names

JOB_ORDER = ["active_passive", "sla_breaches", "inquiry_queue", "spam_deletion", "targeted_accounts", "unresponsive"]
SPAM_LEADS = 1_000
SPAM_BLOCK_EVERY = 10
TARGETED_ACCOUNTS = 2_000
PLAIN_ACCOUNTS = 18_000
LEADS_PER_ACCOUNT = 5
CONTACTS_PER_ACCOUNT = 2
UNRESPONSIVE_ENROLMENTS = 10_000
PASSIVE_DUE = 10_000
SLA_OVERDUE = 1_000
SLA_REASSIGN = 200
INQUIRY_SEQUENCE = "Bench jobs: inquiries"
UNRESPONSIVE_SEQUENCE = "Bench jobs: finished without reply"
REASSIGN_POOL = "US/APAC BDR"


def prepare(now: Any, ids: dict[str, int], names: list[str]) -> dict[str, int]:
    """Put each job's share of qualifying rows in place; returns how many each job has."""
    share = {"inquiry_queue": _prepare_inquiries(now, ids), "spam_deletion": _prepare_spam(now, ids),
             "targeted_accounts": _prepare_targeted(now, ids), "active_passive": _prepare_passive(now, ids),
             "sla_breaches": _prepare_sla(now, ids)}
    if "unresponsive" in names:
        share["unresponsive"] = _prepare_unresponsive(now, ids)
    return share


def _sequence(name: str) -> Any:
    from leads.models import Sequence, Touch

    return Sequence.objects.get_or_create(name=name, defaults={"touch": Touch.HIGH})[0]


def _enrol_active(lead_ids: list[int], sequence: Any, now: Any) -> None:
    from leads.models import Enrollment

    busy = set(Enrollment.objects.filter(lead_id__in=lead_ids, state="active").values_list("lead_id", flat=True))
    Enrollment.objects.bulk_create(
        [Enrollment(sequence=sequence, lead_id=pk, state="active", enrolled_at=now - timedelta(days=2))
         for pk in set(lead_ids) - busy], batch_size=5000)


def _prepare_inquiries(now: Any, ids: dict[str, int]) -> int:
    from django.db import connection
    from django.db.models.functions import Mod

    from leads.models import Lead, Queue

    queues = dict(Queue.objects.values_list("name", "id"))
    inquiry, view_sdr, owner = queues[Queue.INQUIRY], ids[seed.VIEW_SDR], ids["bench-sdr-amer-2"]
    sequence = _sequence(INQUIRY_SEQUENCE)
    with connection.cursor() as cursor:
        # Back to last night's state: a third owned and unqueued, the rest in the queue.
        cursor.execute("UPDATE leads_lead SET owner_id = %s, queue_id = NULL WHERE status = 'inquiry' AND id %% 3 = 0 "
                       "AND queue_id = %s AND converted_to_id IS NULL", [owner, inquiry])
        cursor.execute("UPDATE leads_lead SET owner_id = NULL, queue_id = %s WHERE status = 'inquiry' "
                       "AND id %% 3 <> 0 AND queue_id IS DISTINCT FROM %s AND owner_id IS DISTINCT FROM %s "
                       "AND converted_to_id IS NULL", [inquiry, inquiry, view_sdr])
    working = list(Lead.objects.filter(status="inquiry", owner_id=view_sdr).values_list("id", flat=True))
    working += list(Lead.objects.annotate(slot=Mod("id", 30)).filter(slot=0, status="inquiry", queue_id=None)
                    .values_list("id", flat=True))
    _enrol_active(working, sequence, now)
    with connection.cursor() as cursor:
        cursor.execute("SELECT count(*) FROM leads_lead l WHERE status = 'inquiry' AND converted_to_id IS NULL "
                       "AND (queue_id IS NULL OR queue_id = %s) AND NOT EXISTS (SELECT 1 FROM leads_enrollment e "
                       "WHERE e.lead_id = l.id AND e.state = 'active')", [queues[Queue.UNASSIGNED]])
        return cursor.fetchone()[0]


def _prepare_spam(now: Any, ids: dict[str, int]) -> int:
    from leads.models import Activity, Lead, StatusChange

    tag = f"{int(time.time() * 1000):x}"
    marked_at = now - timedelta(hours=1)
    leads = Lead.objects.bulk_create([
        Lead(email=f"spam-{tag}-{k}@spam-bench-{k % 50}.test", email_domain=f"spam-bench-{k % 50}.test",
             last_name="Spam", company="Spam", status="unqualified", status_reason="spam",
             status_changed_at=marked_at, initial_source="web_direct", owner_id=ids["bench-sdr-amer-3"],
             spam_marked_at=marked_at, spam_marked_by_id=ids[seed.OPS_USER],
             spam_block_domain=k % SPAM_BLOCK_EVERY == 0)
        for k in range(SPAM_LEADS)], batch_size=1000)
    Activity.objects.bulk_create(
        [Activity(lead=lead, type=kind, occurred_at=now - timedelta(days=1))
         for lead in leads for kind in ("gated_asset_download", "pricing_page_visit")], batch_size=5000)
    StatusChange.objects.bulk_create(
        [StatusChange(lead=lead, old="raw", new="unqualified", reason="spam", cause="manual",
                      by_id=ids[seed.OPS_USER], at=marked_at) for lead in leads], batch_size=5000)
    return Lead.objects.filter(spam_marked_at__lt=now).count()


def _prepare_targeted(now: Any, ids: dict[str, int]) -> int:
    from leads.models import Account, Activity, Contact, Lead

    owner = ids["bench-sdr-amer-2"]
    if not Account.objects.filter(name__startswith="Bench target ").exists():
        Account.objects.bulk_create([Account(name=f"Bench account {k}", name_key=f"bench account {k}",
                                             domain=f"bench-account-{k}.test", country="US")
                                     for k in range(PLAIN_ACCOUNTS)], batch_size=5000)
        targets = Account.objects.bulk_create([Account(name=f"Bench target {k}", name_key=f"bench target {k}",
                                                       domain=f"bench-target-{k}.test", country="US")
                                               for k in range(TARGETED_ACCOUNTS)], batch_size=5000)
        leads = Lead.objects.bulk_create([
            Lead(email=f"t{j}@{account.domain}", email_domain=account.domain, last_name=f"Target{j}",
                 company=account.name, account=account, owner_id=owner, status_changed_at=now,
                 initial_source="webcast")
            for account in targets for j in range(LEADS_PER_ACCOUNT)], batch_size=5000)
        contacts = Contact.objects.bulk_create([
            Contact(email=f"c{j}@{account.domain}", last_name=f"Contact{j}", company=account.name, account=account,
                    owner_id=owner, status="qualified", status_changed_at=now, initial_source="webcast")
            for account in targets for j in range(CONTACTS_PER_ACCOUNT)], batch_size=5000)
        activities = [Activity(lead=lead, type="webcast_registered", occurred_at=now - timedelta(days=40 + n % 300))
                      for n, lead in enumerate(leads)]
        activities += [Activity(contact=contact, type="meeting", occurred_at=now - timedelta(days=45 + n % 200))
                       for n, contact in enumerate(contacts)]
        # Every other account was busy lately: alternately on a lead and on a contact.
        for k in range(len(targets[::2])):
            person = ({"lead": leads[2 * k * LEADS_PER_ACCOUNT]} if k % 2 else
                      {"contact": contacts[2 * k * CONTACTS_PER_ACCOUNT]})
            activities.append(Activity(**person, type="call", occurred_at=now, source_system="bench-recent"))
        Activity.objects.bulk_create(activities, batch_size=5000)
    Activity.objects.filter(source_system="bench-recent").update(occurred_at=now - timedelta(days=3))
    return Account.objects.filter(name__startswith="Bench target ").update(
        targeted=True, targeted_by_id=owner, targeted_at=now - timedelta(days=60))


def _prepare_unresponsive(now: Any, ids: dict[str, int]) -> int:
    from leads.models import Enrollment, Lead

    sequence = _sequence(UNRESPONSIVE_SEQUENCE)
    enrolments = Enrollment.objects.filter(sequence=sequence)
    if not enrolments.exists():
        leads = Lead.objects.bulk_create([
            Lead(email=f"u{k}@bench-unresponsive-{k % 100}.test", email_domain=f"bench-unresponsive-{k % 100}.test",
                 last_name=f"Quiet{k}", company="Quiet", status="accepted", status_changed_at=now,
                 initial_source="webcast", owner_id=ids["bench-sdr-emea-1"])
            for k in range(UNRESPONSIVE_ENROLMENTS)], batch_size=5000)
        Enrollment.objects.bulk_create([Enrollment(sequence=sequence, lead=lead, state="finished",
                                                   enrolled_at=now - timedelta(days=30), current_step=3,
                                                   finish_reason="completed", finished_at=now)
                                        for lead in leads], batch_size=5000)
    Lead.objects.filter(id__in=enrolments.values("lead_id")).update(status="accepted", status_reason="")
    return enrolments.update(state="finished", finish_reason="completed", finished_at=now - timedelta(days=8),
                             replied_at=None, followed_up_at=None)


def _prepare_passive(now: Any, ids: dict[str, int]) -> int:
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute("UPDATE leads_lead SET is_passive = false WHERE id IN (SELECT id FROM leads_lead "
                       "WHERE is_passive AND active_until < %s AND owner_id IS DISTINCT FROM %s ORDER BY id LIMIT %s)",
                       [now, ids[seed.VIEW_SDR], PASSIVE_DUE])
    from leads.models import Lead

    return Lead.objects.filter(is_passive=False, active_until__lte=now).count()


def _prepare_sla(now: Any, ids: dict[str, int]) -> int:
    from django.db import connection

    open_statuses = ("raw", "inquiry", "mql", "accepted", "qualifying")
    with connection.cursor() as cursor:
        cursor.execute("UPDATE leads_lead SET sla_due_at = %s, sla_breached_at = NULL, sla_pool = '' WHERE id IN "
                       "(SELECT id FROM leads_lead WHERE owner_id = %s AND status IN %s AND converted_to_id IS NULL "
                       "ORDER BY id LIMIT %s)",
                       [now - timedelta(hours=2), ids["bench-sdr-amer-2"], open_statuses, SLA_OVERDUE])
        prepared = cursor.rowcount
        cursor.execute("UPDATE leads_lead SET sla_due_at = %s, sla_breached_at = %s, sla_pool = %s WHERE id IN "
                       "(SELECT id FROM leads_lead WHERE owner_id = %s AND status IN %s AND converted_to_id IS NULL "
                       "AND sla_due_at IS NULL ORDER BY id LIMIT %s)",
                       [now - timedelta(days=5), now - timedelta(days=5) + timedelta(hours=1), REASSIGN_POOL,
                        ids["bench-bdr-amer-1"], open_statuses, SLA_REASSIGN])
        return prepared + cursor.rowcount


def cmd_run(args: argparse.Namespace) -> dict[str, Any]:
    seed.setup_django()
    from django.conf import settings
    from django.utils import timezone

    from leads.models import Lead
    from sdrcrm.jobs import JOBS
    from sdrcrm.models import User

    ids = dict(User.objects.filter(username__startswith="bench-").values_list("username", "id"))
    names = [name for name in JOB_ORDER if name in JOBS]
    names += sorted(set(JOBS) - set(names))  # a job added later is timed too (with no prepared share)
    if args.only:
        names = [name for name in names if name in args.only.split(",")]
    now = timezone.now()
    started = time.monotonic()
    print("  preparing each job's share of qualifying rows", flush=True)
    share = prepare(now, ids, names)
    result: dict[str, Any] = {"leads": Lead.objects.count(), "batch_size": settings.JOB_BATCH_SIZE,
                              "prepare_seconds": round(time.monotonic() - started, 1), "jobs": {}}
    for name in names:
        job_started = time.perf_counter()
        counts = JOBS[name](now)
        seconds = time.perf_counter() - job_started
        result["jobs"][name] = {"seconds": round(seconds, 2), "qualifying": share.get(name), "counts": counts}
        print(f"  {name}: {seconds:.2f} s, {share.get(name, '?')} qualifying, {counts}", flush=True)
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = parser.add_subparsers(dest="command", required=True)
    run = sub.add_parser("run", help="prepare each job's share of rows, then time each job")
    run.add_argument("--only", default="", help="comma-separated job names (default: all)")
    args = parser.parse_args()
    print(json.dumps(cmd_run(args), default=str))


if __name__ == "__main__":
    sys.exit(main())
