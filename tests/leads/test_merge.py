"""Duplicates, merging two leads and undoing a merge (docs/rules.md §9): the service rules, then
the lead page's Duplicates card."""

from __future__ import annotations

import hashlib
from datetime import UTC, datetime, timedelta

import factory
import pytest
from django.db import connection
from django.db.models import ForeignKey
from django.test import Client

from leads import merge
from leads.merge import CONTACT_EMAIL, DOMAIN_LAST_NAME, EMAIL, find_duplicates, merge_leads, undo_merge
from leads.models import ActivityType, Cause, Enrollment, InitialSource, Lead, Status, StatusChange, Tombstone
from routing.models import RoutingDecision
from scoring import services as scoring
from scoring.models import ScoreEntry
from sdrcrm.errors import Refused
from sdrcrm.models import Notification
from tests.conftest import lead_page, on_postgres, require
from tests.factories import (
    ActivityFactory,
    ContactFactory,
    EnrollmentFactory,
    IQMFactory,
    LeadFactory,
    OpportunityFactory,
)

pytestmark = pytest.mark.django_db

NOW = datetime(2026, 2, 10, 15, 0, tzinfo=UTC)
DAY = timedelta(days=1)


def created(lead: Lead, at: datetime) -> Lead:
    """created_at is stamped on insert; set it afterwards."""
    Lead.objects.filter(pk=lead.pk).update(created_at=at)
    lead.refresh_from_db()
    return lead


def pair(survivor_owner, **other_fields) -> tuple[Lead, Lead]:
    """A survivor owned by `survivor_owner` and a duplicate at the same company (the same
    owner unless `other_fields` says otherwise); the duplicate is the older record."""
    keep = created(LeadFactory(owner=survivor_owner, email="jane.doe@initech.com", last_name="Doe",
                               initial_source=InitialSource.WEBCAST), NOW - DAY)
    fields = {"owner": survivor_owner, "email": "j.doe@initech.com", "last_name": "Doe",
              "initial_source": InitialSource.TRIAL_ENTERPRISE, **other_fields}
    gone = created(LeadFactory(**fields), NOW - 30 * DAY)
    return keep, gone


def decision(lead: Lead) -> RoutingDecision:
    return RoutingDecision.objects.create(lead=lead, action="owner", reason="test", at=NOW)


# --- Duplicates ---------------------------------------------------------------------------

def kinds(lead: Lead, user) -> set[tuple[str, int]]:
    return {(d.kind, d.person.pk) for d in find_duplicates(lead, user)}


def test_a_lead_with_the_same_email_in_another_case_is_a_duplicate(sdr):
    lead = LeadFactory(owner=sdr, email="jane@initech.com")
    # Stored as it came, before emails were lower-cased.
    twin = LeadFactory(owner=sdr, email=factory.Transformer.Force("Jane@Initech.com"), last_name="Other")

    assert kinds(lead, sdr) == {(EMAIL, twin.pk)}


def test_a_lead_at_the_same_company_domain_with_the_same_last_name_is_a_duplicate(sdr):
    lead = LeadFactory(owner=sdr, email="jane@initech.com", last_name="Doe")
    namesake = LeadFactory(owner=sdr, email="jd@initech.com", last_name="DOE")
    LeadFactory(owner=sdr, email="bob@initech.com", last_name="Smith")
    LeadFactory(owner=sdr, email="jane.doe@other.com", last_name="Doe")

    assert kinds(lead, sdr) == {(DOMAIN_LAST_NAME, namesake.pk)}


def test_a_free_mail_domain_never_makes_two_leads_duplicates(sdr):
    lead = LeadFactory(owner=sdr, email="jane.doe@gmail.com", last_name="Doe")
    LeadFactory(owner=sdr, email="john.doe@gmail.com", last_name="Doe")

    assert kinds(lead, sdr) == set()


def test_a_contact_with_the_same_email_is_listed(sdr):
    lead = LeadFactory(owner=sdr, email="jane@initech.com")
    contact = ContactFactory(owner=sdr, email="jane@initech.com")
    ContactFactory(owner=sdr, email="someone@initech.com")

    assert kinds(lead, sdr) == {(CONTACT_EMAIL, contact.pk)}


def test_duplicates_the_user_may_not_see_are_not_listed(sdr, other_sdr):
    lead = LeadFactory(owner=sdr, email="jane@initech.com", last_name="Doe")
    LeadFactory(owner=other_sdr, email="jd@initech.com", last_name="Doe")
    ContactFactory(owner=other_sdr, email="jane@initech.com")

    assert kinds(lead, sdr) == set()


def test_teammates_duplicates_are_listed_for_reading(sdr, teammate):
    lead = LeadFactory(owner=sdr, email="jane@initech.com", last_name="Doe")
    theirs = LeadFactory(owner=teammate, email="jd@initech.com", last_name="Doe")

    assert kinds(lead, sdr) == {(DOMAIN_LAST_NAME, theirs.pk)}


def test_converted_leads_are_not_listed_as_duplicates(sdr):
    lead = LeadFactory(owner=sdr, email="jane@initech.com", last_name="Doe")
    contact = ContactFactory(owner=sdr, email="jd@initech.com")
    LeadFactory(owner=sdr, email="jd@initech.com", last_name="Doe", status=Status.QUALIFIED, converted_to=contact)

    assert kinds(lead, sdr) == set()


def test_each_kind_is_bounded(sdr):
    lead = LeadFactory(owner=sdr, email="jane@initech.com", last_name="Doe")
    for i in range(merge.DUPLICATE_LIMIT + 3):
        LeadFactory(owner=sdr, email=f"doe{i}@initech.com", last_name="Doe")

    found = find_duplicates(lead, sdr)

    assert len(found) == merge.DUPLICATE_LIMIT
    assert all(d.kind == DOMAIN_LAST_NAME for d in found)


def test_the_duplicate_queries_use_indexes_not_a_scan_of_all_leads(sdr):
    require(on_postgres(), "CI must run on PostgreSQL", "query plans need PostgreSQL")
    lead = LeadFactory(owner=sdr, email="jane@initech.com", last_name="Doe")
    Lead.objects.bulk_create([
        Lead(email=f"p{i}@company{i % 40}.com", email_domain=f"company{i % 40}.com", last_name=f"Name{i}",
             status_changed_at=NOW, initial_source=InitialSource.WEBCAST)
        for i in range(2000)
    ])
    ContactFactory.create_batch(5, owner=sdr)
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE leads_lead")
        cursor.execute("ANALYZE leads_contact")
        # The contacts table is tiny here: price sequential scans out so the plan shows
        # whether the query can use an index at all.
        cursor.execute("SET LOCAL enable_seqscan = off")
    indexes = {EMAIL: "leads_lead_email", DOMAIN_LAST_NAME: "lead_email_domain",
               CONTACT_EMAIL: "leads_contact_email"}
    for kind, queryset in merge.duplicate_querysets(lead, sdr).items():
        plan = queryset[: merge.DUPLICATE_LIMIT].explain()
        assert "Seq Scan" not in plan, (kind, plan)
        assert f"Index Scan on {indexes[kind]}" in plan or f"Index Scan using {indexes[kind]}" in plan, (kind, plan)


# --- Merge: what the survivor keeps ----------------------------------------------------------

def test_the_survivor_keeps_its_id_and_owner_and_takes_the_oldest_initial_source(sdr, manager):
    keep, gone = pair(sdr, owner=None)
    keep_id = keep.pk

    merge_leads(keep, gone, by=manager, now=NOW)

    keep.refresh_from_db()
    assert (keep.pk, keep.owner, keep.initial_source) == (keep_id, sdr, InitialSource.TRIAL_ENTERPRISE)


def test_the_survivors_initial_source_stays_when_it_is_the_older_record(sdr):
    keep, gone = pair(sdr)
    created(keep, NOW - 90 * DAY)

    merge_leads(keep, gone, by=sdr, now=NOW)

    keep.refresh_from_db()
    assert keep.initial_source == InitialSource.WEBCAST


def test_the_earliest_mql_date_and_the_latest_last_mql_date_are_kept(sdr):
    keep, gone = pair(sdr)
    Lead.objects.filter(pk=keep.pk).update(mql_at=NOW - 5 * DAY, last_mql_at=NOW - 5 * DAY)
    Lead.objects.filter(pk=gone.pk).update(mql_at=NOW - 20 * DAY, last_mql_at=NOW - 2 * DAY)

    merge_leads(keep, gone, by=sdr, now=NOW)

    keep.refresh_from_db()
    assert (keep.mql_at, keep.last_mql_at) == (NOW - 20 * DAY, NOW - 2 * DAY)


def test_blanks_are_filled_from_the_other_and_values_are_kept(sdr):
    keep, gone = pair(sdr, title="VP Engineering", phone="+1 555 0100", company="Other Co")
    Lead.objects.filter(pk=keep.pk).update(title="", phone="", company="Initech")

    merge_leads(keep, gone, by=sdr, now=NOW)

    keep.refresh_from_db()
    assert (keep.title, keep.phone, keep.company) == ("VP Engineering", "+1 555 0100", "Initech")


@pytest.mark.parametrize("side", ["keep", "gone"])
@pytest.mark.parametrize("flag", ["opted_out", "inactive", "high_priority", "public_sector"])
def test_a_flag_either_lead_has_is_kept(sdr, flag, side):
    keep, gone = pair(sdr)
    flagged = keep if side == "keep" else gone
    Lead.objects.filter(pk=flagged.pk).update(**{flag: True})
    flagged.refresh_from_db()

    merge_leads(keep, gone, by=sdr, now=NOW)

    keep.refresh_from_db()
    assert getattr(keep, flag) is True


def test_an_opt_out_on_the_other_stops_the_survivors_sequence(sdr):
    keep, gone = pair(sdr, opted_out=True)
    enrollment = EnrollmentFactory(lead=keep)

    merge_leads(keep, gone, by=sdr, now=NOW)

    enrollment.refresh_from_db()
    assert (enrollment.state, enrollment.finished_at) == (Enrollment.State.FINISHED, NOW)


def test_the_survivor_keeps_its_status(sdr):
    keep, gone = pair(sdr, status=Status.QUALIFYING)
    Lead.objects.filter(pk=keep.pk).update(status=Status.ACCEPTED)

    merge_leads(keep, gone, by=sdr, now=NOW)

    keep.refresh_from_db()
    assert keep.status == Status.ACCEPTED
    assert not StatusChange.objects.filter(lead=keep, cause=Cause.MERGE).exists()


# --- Merge: rows move ---------------------------------------------------------------------------

def test_every_row_of_the_other_lead_moves_to_the_survivor(sdr):
    keep, gone = pair(sdr)
    rows = {
        "activity": ActivityFactory(lead=gone, occurred_at=NOW - DAY),
        "history": StatusChange.objects.create(lead=gone, old="", new=Status.RAW, cause=Cause.IMPORT, at=NOW - DAY),
        "decision": decision(gone),
        "iqm": IQMFactory(lead=gone),
        "enrollment": EnrollmentFactory(lead=gone),
        "opportunity": OpportunityFactory(lead=gone),
        "notification": Notification.objects.create(user=sdr, kind="routing", message="m", lead=gone),
    }
    scoring.rescore(gone, now=NOW)
    ledger = list(ScoreEntry.objects.filter(lead=gone).values_list("pk", flat=True))
    assert ledger

    merge_leads(keep, gone, by=sdr, now=NOW)

    for name, row in rows.items():
        row.refresh_from_db()
        assert row.lead_id == keep.pk, name
    assert set(ScoreEntry.objects.filter(pk__in=ledger).values_list("lead", flat=True)) == {keep.pk}


def test_the_merge_moves_every_kind_of_row_that_points_at_a_lead():
    """A new model with a foreign key to Lead must be moved by a merge, or the merge
    would delete its rows along with the merged-away lead."""
    pointing = {field.related_model for field in Lead._meta.get_fields(include_hidden=True)
                if field.one_to_many and isinstance(field.remote_field, ForeignKey)}

    assert pointing == set(merge.MOVED_ROWS.values())


def test_the_survivor_is_rescored_with_the_merged_behaviour(sdr):
    keep, gone = pair(sdr)
    ActivityFactory(lead=gone, type=ActivityType.BOOTH_VISIT, occurred_at=NOW - DAY)
    ActivityFactory(lead=keep, type=ActivityType.BOOTH_VISIT, occurred_at=NOW - DAY)
    for lead in (keep, gone):
        scoring.rescore(lead, now=NOW)
    before = keep.score

    merge_leads(keep, gone, by=sdr, now=NOW)

    keep.refresh_from_db()
    assert keep.score == before + 30
    # The ledger still explains the score, row by row.
    assert sum(ScoreEntry.objects.filter(lead=keep).values_list("points", flat=True)) == keep.score


def test_merged_behaviour_that_reaches_90_points_makes_the_survivor_mql_with_cause_merge(sdr):
    keep, gone = pair(sdr, title="")
    Lead.objects.filter(pk=keep.pk).update(title="Director")
    keep.refresh_from_db()
    ActivityFactory(lead=keep, type=ActivityType.BOOTH_VISIT, occurred_at=NOW - DAY)
    ActivityFactory(lead=gone, type=ActivityType.ENTERPRISE_TRIAL_PAGE_VISIT, occurred_at=NOW - DAY)
    scoring.rescore(keep, now=NOW)
    assert keep.score < 90

    merge_leads(keep, gone, by=sdr, now=NOW)

    keep.refresh_from_db()
    assert (keep.status, keep.mql_at) == (Status.MQL, NOW)
    change = StatusChange.objects.get(lead=keep, cause=Cause.MERGE)
    assert (change.old, change.new, change.by) == (Status.RAW, Status.MQL, sdr)


def test_two_active_enrolments_finish_the_others_first(sdr):
    keep, gone = pair(sdr)
    kept_enrollment = EnrollmentFactory(lead=keep)
    gone_enrollment = EnrollmentFactory(lead=gone)

    merge_leads(keep, gone, by=sdr, now=NOW)

    kept_enrollment.refresh_from_db()
    gone_enrollment.refresh_from_db()
    assert kept_enrollment.state == Enrollment.State.ACTIVE
    assert (gone_enrollment.lead_id, gone_enrollment.state, gone_enrollment.finish_reason) == (
        keep.pk, Enrollment.State.FINISHED, Enrollment.FinishReason.MANUAL)


def test_the_others_only_active_enrolment_goes_on_for_the_survivor(sdr):
    keep, gone = pair(sdr)
    enrollment = EnrollmentFactory(lead=gone)

    merge_leads(keep, gone, by=sdr, now=NOW)

    enrollment.refresh_from_db()
    assert (enrollment.lead_id, enrollment.state) == (keep.pk, Enrollment.State.ACTIVE)


# --- Merge: tombstone --------------------------------------------------------------------------

def test_the_other_lead_is_deleted_leaving_a_tombstone_pointing_to_the_survivor(sdr):
    keep, gone = pair(sdr, phone="+1 555 0100")
    activity = ActivityFactory(lead=gone)
    gone_id = gone.pk

    tombstone = merge_leads(keep, gone, by=sdr, now=NOW)

    assert not Lead.objects.filter(pk=gone_id).exists()
    tombstone.refresh_from_db()
    assert (tombstone.kind, tombstone.original_id, tombstone.merged_into_id) == (Tombstone.Kind.MERGE, gone_id, keep.pk)
    assert tombstone.email_hash == hashlib.sha256(b"j.doe@initech.com").hexdigest()
    assert (tombstone.email_domain, tombstone.marked_by, tombstone.deleted_at) == ("initech.com", sdr, NOW)
    snapshot = tombstone.snapshot
    assert snapshot["lead"]["email"] == "j.doe@initech.com"
    assert snapshot["lead"]["phone"] == "+1 555 0100"
    assert snapshot["lead"]["owner_id"] == sdr.pk
    assert snapshot["moved"]["activities"] == [activity.pk]
    assert snapshot["survivor_before"]["initial_source"] == InitialSource.WEBCAST


# --- Merge: refusals ---------------------------------------------------------------------------

def test_a_lead_cannot_be_merged_with_itself(sdr):
    lead = LeadFactory(owner=sdr)

    with pytest.raises(Refused, match="itself"):
        merge_leads(lead, lead, by=sdr, now=NOW)


@pytest.mark.parametrize("side", ["keep", "gone"])
def test_a_converted_lead_cannot_be_merged(sdr, side):
    keep, gone = pair(sdr)
    converted = keep if side == "keep" else gone
    Lead.objects.filter(pk=converted.pk).update(status=Status.QUALIFIED, converted_to=ContactFactory(owner=sdr))

    with pytest.raises(Refused, match="converted"):
        merge_leads(keep, gone, by=sdr, now=NOW)

    assert Lead.objects.filter(pk=gone.pk).exists()


def test_a_lead_marked_as_spam_cannot_be_merged(sdr):
    keep, gone = pair(sdr, spam_marked_at=NOW - DAY)

    with pytest.raises(Refused, match="spam"):
        merge_leads(keep, gone, by=sdr, now=NOW)


def test_a_lead_the_user_may_only_read_cannot_be_merged_away(sdr, teammate):
    keep, gone = pair(sdr, owner=teammate)

    with pytest.raises(Refused) as refused:
        merge_leads(keep, gone, by=sdr, now=NOW)

    assert refused.value.field == "duplicate"
    assert Lead.objects.filter(pk=gone.pk).exists()


def test_nothing_can_be_merged_into_a_lead_the_user_may_only_read(sdr, teammate):
    keep, gone = pair(sdr)
    Lead.objects.filter(pk=keep.pk).update(owner=teammate)

    with pytest.raises(Refused) as refused:
        merge_leads(keep, gone, by=sdr, now=NOW)

    assert (refused.value.field, refused.value.status) == ("lead", 403)


# --- Undo ------------------------------------------------------------------------------------------

def merged(sdr, **other_fields) -> tuple[Lead, Lead, Tombstone, dict[str, object]]:
    keep, gone = pair(sdr, **other_fields)
    rows = {
        "activity": ActivityFactory(lead=gone, type=ActivityType.BOOTH_VISIT, occurred_at=NOW - DAY),
        "history": StatusChange.objects.create(lead=gone, old="", new=Status.RAW, cause=Cause.IMPORT, at=NOW - DAY),
        "decision": decision(gone),
        "iqm": IQMFactory(lead=gone),
        "opportunity": OpportunityFactory(lead=gone),
    }
    scoring.rescore(gone, now=NOW)
    scoring.rescore(keep, now=NOW)
    tombstone = merge_leads(keep, gone, by=sdr, now=NOW)
    return keep, gone, tombstone, rows


def test_undo_brings_the_lead_back_with_its_id_fields_and_rows(sdr, ops):
    keep, gone, tombstone, rows = merged(sdr, phone="+1 555 0100", title="CTO", opted_out=True)
    keep_score = Lead.objects.get(pk=keep.pk).score

    restored = undo_merge(tombstone, by=ops, now=NOW + DAY)

    assert restored.pk == gone.pk
    back = Lead.objects.get(pk=gone.pk)
    assert (back.email, back.phone, back.title, back.owner, back.opted_out) == (
        "j.doe@initech.com", "+1 555 0100", "CTO", sdr, True)
    assert (back.initial_source, back.created_at) == (InitialSource.TRIAL_ENTERPRISE, gone.created_at)
    for name, row in rows.items():
        row.refresh_from_db()
        assert row.lead_id == gone.pk, name
    assert back.score == gone.score
    assert Lead.objects.get(pk=keep.pk).score < keep_score


def test_undo_restores_the_survivors_own_values(sdr, ops):
    keep, gone, tombstone, _ = merged(sdr, opted_out=True, phone="+1 555 0100")
    assert Lead.objects.get(pk=keep.pk).phone == "+1 555 0100"  # filled by the merge

    undo_merge(tombstone, by=ops, now=NOW + DAY)

    keep.refresh_from_db()
    assert (keep.initial_source, keep.opted_out, keep.phone) == (InitialSource.WEBCAST, False, "")


def test_undo_keeps_what_was_changed_on_the_survivor_after_the_merge(sdr, ops):
    keep, gone, tombstone, _ = merged(sdr, title="CTO")
    Lead.objects.filter(pk=keep.pk).update(title="Head of Platform")

    undo_merge(tombstone, by=ops, now=NOW + DAY)

    keep.refresh_from_db()
    assert keep.title == "Head of Platform"


def test_undo_keeps_rows_added_to_the_survivor_since(sdr, ops):
    keep, gone, tombstone, _ = merged(sdr)
    later = ActivityFactory(lead=keep, occurred_at=NOW + DAY)

    undo_merge(tombstone, by=ops, now=NOW + 2 * DAY)

    later.refresh_from_db()
    assert later.lead_id == keep.pk


def test_undo_restarts_the_enrolment_the_merge_finished(sdr, ops):
    keep, gone = pair(sdr)
    EnrollmentFactory(lead=keep)
    theirs = EnrollmentFactory(lead=gone)
    tombstone = merge_leads(keep, gone, by=sdr, now=NOW)

    undo_merge(tombstone, by=ops, now=NOW + DAY)

    theirs.refresh_from_db()
    assert (theirs.lead_id, theirs.state, theirs.finish_reason) == (gone.pk, Enrollment.State.ACTIVE, "")


def test_undo_marks_the_tombstone_undone(sdr, ops):
    _, _, tombstone, _ = merged(sdr)

    undo_merge(tombstone, by=ops, now=NOW + DAY)

    tombstone.refresh_from_db()
    assert (tombstone.undone_at, tombstone.undone_by) == (NOW + DAY, ops)


def test_a_merge_cannot_be_undone_twice(sdr, ops):
    _, _, tombstone, _ = merged(sdr)
    undo_merge(tombstone, by=ops, now=NOW + DAY)

    with pytest.raises(Refused, match="undone already"):
        undo_merge(tombstone, by=ops, now=NOW + 2 * DAY)


def test_only_ops_may_undo_a_merge(sdr, manager):
    _, gone, tombstone, _ = merged(sdr)

    with pytest.raises(Refused) as refused:
        undo_merge(tombstone, by=manager, now=NOW + DAY)

    assert refused.value.status == 403
    assert not Lead.objects.filter(pk=gone.pk).exists()


def test_undo_is_refused_when_the_email_belongs_to_another_lead_now(sdr, ops):
    _, gone, tombstone, _ = merged(sdr)
    LeadFactory(email="j.doe@initech.com")

    with pytest.raises(Refused, match="j.doe@initech.com"):
        undo_merge(tombstone, by=ops, now=NOW + DAY)

    tombstone.refresh_from_db()
    assert tombstone.undone_at is None


def test_undo_is_refused_when_the_survivor_is_gone(sdr, ops):
    keep, _, tombstone, _ = merged(sdr)
    Lead.objects.filter(pk=keep.pk).delete()

    with pytest.raises(Refused, match="no longer exists"):
        undo_merge(tombstone, by=ops, now=NOW + DAY)


def test_undo_leaves_out_an_owner_who_no_longer_exists(sdr, teammate, ops):
    keep, gone = pair(sdr, owner=None)
    Lead.objects.filter(pk=gone.pk).update(owner=teammate)
    gone.refresh_from_db()
    tombstone = merge_leads(keep, gone, by=ops, now=NOW)
    teammate.delete()

    restored = undo_merge(tombstone, by=ops, now=NOW + DAY)

    assert Lead.objects.get(pk=restored.pk).owner_id is None


# --- The lead page --------------------------------------------------------------------------

def page(user, lead: Lead) -> str:
    client = Client()
    client.force_login(user)
    return lead_page(client, lead)


def test_the_lead_page_lists_duplicates_with_their_kind_and_a_merge_button(sdr):
    keep, gone = pair(sdr)
    ContactFactory(owner=sdr, email=keep.email)

    html = page(sdr, keep)

    assert "Same company domain and last name" in html
    assert "Contact with the same email" in html
    assert f'name="duplicate" value="{gone.pk}"' in html
    assert "Merge into this lead" in html
    assert f'action="/leads/{keep.pk}/merge/"' in html


def test_a_reader_sees_duplicates_without_a_merge_button(sdr, teammate):
    keep, gone = pair(sdr)

    html = page(teammate, keep)

    assert "Same company domain and last name" in html
    assert "Merge into this lead" not in html


def test_merging_from_the_page_merges_and_says_so(sdr):
    keep, gone = pair(sdr)
    client = Client()
    client.force_login(sdr)

    response = client.post(f"/leads/{keep.pk}/merge/", {"duplicate": gone.pk}, follow=True)

    assert not Lead.objects.filter(pk=gone.pk).exists()
    assert f"Merged {gone.full_name} ({gone.email}) into this lead; ops can undo it." in response.content.decode()


@pytest.mark.parametrize("value", ["", "abc", "0", str(10**20), "-3"])
def test_a_bad_duplicate_on_the_page_is_a_message_not_an_error(sdr, value):
    keep, _ = pair(sdr)
    client = Client()
    client.force_login(sdr)

    response = client.post(f"/leads/{keep.pk}/merge/", {"duplicate": value}, follow=True)

    assert response.status_code == 200
    assert "Pick a duplicate lead" in response.content.decode()


def test_a_refused_merge_on_the_page_shows_the_reason(sdr, teammate):
    keep, gone = pair(sdr, owner=teammate)
    client = Client()
    client.force_login(sdr)

    response = client.post(f"/leads/{keep.pk}/merge/", {"duplicate": gone.pk}, follow=True)

    assert f"You may not change lead {gone.pk}" in response.content.decode()
    assert Lead.objects.filter(pk=gone.pk).exists()


def test_merging_from_the_page_needs_the_csrf_token(sdr):
    keep, gone = pair(sdr)
    client = Client(enforce_csrf_checks=True)
    client.force_login(sdr)

    response = client.post(f"/leads/{keep.pk}/merge/", {"duplicate": gone.pk})

    assert response.status_code == 403
    assert Lead.objects.filter(pk=gone.pk).exists()


def test_another_sdrs_lead_page_merge_is_a_404(sdr, other_sdr):
    keep, gone = pair(other_sdr)
    client = Client()
    client.force_login(sdr)

    assert client.post(f"/leads/{keep.pk}/merge/", {"duplicate": gone.pk}).status_code == 404


def test_ops_see_merges_into_the_lead_with_undo(sdr, ops):
    keep, gone, tombstone, _ = merged(sdr)

    html = page(ops, keep)

    assert "Merged into this lead" in html
    assert "j.doe@initech.com" in html
    assert f'action="/leads/{keep.pk}/merges/{tombstone.pk}/undo/"' in html


def test_others_see_merges_without_undo(sdr):
    keep, _, _, _ = merged(sdr)

    html = page(sdr, keep)

    assert "Merged into this lead" in html
    assert "/undo/" not in html


def test_ops_undo_from_the_page(sdr, ops):
    keep, gone, tombstone, _ = merged(sdr)
    client = Client()
    client.force_login(ops)

    response = client.post(f"/leads/{keep.pk}/merges/{tombstone.pk}/undo/", follow=True)

    assert response.status_code == 200
    assert "Merge undone" in response.content.decode()
    assert Lead.objects.filter(pk=gone.pk).exists()


def test_undo_from_the_page_by_someone_else_is_a_403(sdr):
    keep, gone, tombstone, _ = merged(sdr)
    client = Client()
    client.force_login(sdr)

    response = client.post(f"/leads/{keep.pk}/merges/{tombstone.pk}/undo/")

    assert response.status_code == 403
    assert not Lead.objects.filter(pk=gone.pk).exists()


def test_undo_twice_from_the_page_shows_why_not(sdr, ops):
    keep, _, tombstone, _ = merged(sdr)
    client = Client()
    client.force_login(ops)
    client.post(f"/leads/{keep.pk}/merges/{tombstone.pk}/undo/")

    response = client.post(f"/leads/{keep.pk}/merges/{tombstone.pk}/undo/", follow=True)

    assert "undone already" in response.content.decode()


def test_the_lead_page_with_duplicates_costs_the_same_queries_however_many(sdr, django_assert_max_num_queries):
    keep, _ = pair(sdr)
    client = Client()
    client.force_login(sdr)
    client.get(f"/leads/{keep.pk}/")
    with django_assert_max_num_queries(60) as few:
        client.get(f"/leads/{keep.pk}/")
    for i in range(15):
        LeadFactory(owner=sdr, email=f"doe{i}@initech.com", last_name="Doe")
        ContactFactory(owner=sdr, email=keep.email)

    with django_assert_max_num_queries(len(few.captured_queries)):
        client.get(f"/leads/{keep.pk}/")



def test_undo_from_the_page_of_an_unknown_merge_is_a_404(sdr, ops):
    keep, _ = pair(sdr)
    client = Client()
    client.force_login(ops)

    for tombstone_id in (10**6, 10**20):
        assert client.post(f"/leads/{keep.pk}/merges/{tombstone_id}/undo/").status_code == 404


def test_campaigns_and_a_deleted_deal_move_to_the_survivor_and_back_on_undo(sdr, ops):
    """The survivor is on each campaign once (its own membership stays, the other's goes);
    a deleted opportunity of the merged-away lead moves like a live one, so neither the
    merge nor its undo loses it."""
    from leads.models import CampaignMember
    from opportunities.models import Opportunity

    keep, gone = pair(sdr)
    CampaignMember.objects.create(campaign="KubeCon", lead=keep, added_at=NOW)
    CampaignMember.objects.create(campaign="KubeCon", lead=gone, added_at=NOW)
    webinar = CampaignMember.objects.create(campaign="Webinar", lead=gone, added_at=NOW)
    deal = OpportunityFactory(lead=gone)
    Opportunity.all_objects.filter(pk=deal.pk).update(deleted_at=NOW)

    tombstone = merge_leads(keep, gone, by=ops, now=NOW)

    assert sorted(CampaignMember.objects.filter(lead=keep).values_list("campaign", flat=True)) == ["KubeCon",
                                                                                                     "Webinar"]
    assert Opportunity.all_objects.get(pk=deal.pk).lead_id == keep.pk

    restored = undo_merge(tombstone, by=ops, now=NOW + DAY)

    assert CampaignMember.objects.get(pk=webinar.pk).lead_id == restored.pk
    assert Opportunity.all_objects.get(pk=deal.pk).lead_id == restored.pk
