"""A person's first Accepted and first Qualifying times (Person.accepted_at, qualifying_at;
the SAO dashboard's funnel reads them): written by the status move the first time only,
kept as the earlier of two records that merge or convert, and filled for the people
already there from their status history (migration leads/0024)."""

from __future__ import annotations

import importlib
from datetime import timedelta
from types import SimpleNamespace

import pytest
from django.apps import apps
from django.db import connection
from django.utils import timezone

from leads import lifecycle
from leads.conversion import convert_lead
from leads.merge import merge_leads, undo_merge
from leads.models import Cause, Contact, Lead, RecycleReason, Status, StatusChange, Tombstone
from tests.factories import AccountFactory, ContactFactory, LeadFactory

pytestmark = pytest.mark.django_db
NOW = timezone.now()
DAY = timedelta(days=1)


def test_the_first_acceptance_and_qualifying_are_kept_through_later_moves(sdr):
    lead = LeadFactory(owner=sdr, status=Status.MQL)
    lifecycle.transition(lead, Status.ACCEPTED, cause=Cause.SEQUENCE, now=NOW - 10 * DAY)
    lifecycle.transition(lead, Status.RECYCLE, reason=RecycleReason.NOT_READY, cause=Cause.MANUAL, now=NOW - 8 * DAY)
    lifecycle.transition(lead, Status.MQL, cause=Cause.SCORE, now=NOW - 5 * DAY)
    lifecycle.transition(lead, Status.ACCEPTED, cause=Cause.SEQUENCE, now=NOW - 4 * DAY)
    lifecycle.transition(lead, Status.QUALIFYING, cause=Cause.REPLY, now=NOW - 2 * DAY)

    lead.refresh_from_db()
    assert (lead.accepted_at, lead.qualifying_at) == (NOW - 10 * DAY, NOW - 2 * DAY)


def test_a_merge_keeps_the_earlier_of_each_and_its_undo_puts_them_back(sdr, ops):
    keep = LeadFactory(owner=sdr, email="jane.doe@initech.com", last_name="Doe", accepted_at=NOW - 3 * DAY)
    gone = LeadFactory(owner=sdr, email="j.doe@initech.com", last_name="Doe", accepted_at=NOW - 9 * DAY,
                       qualifying_at=NOW - 7 * DAY)

    merge_leads(keep, gone, by=sdr, now=NOW)

    keep.refresh_from_db()
    assert (keep.accepted_at, keep.qualifying_at) == (NOW - 9 * DAY, NOW - 7 * DAY)
    undo_merge(Tombstone.objects.get(merged_into_id=keep.pk), by=ops, now=NOW + DAY)
    keep.refresh_from_db()
    assert (keep.accepted_at, keep.qualifying_at) == (NOW - 3 * DAY, None)


def test_a_converted_lead_keeps_its_days_and_its_contact_takes_the_earlier(sdr):
    account = AccountFactory()
    ContactFactory(account=account, owner=sdr, email="cto@initech.com", accepted_at=NOW - 20 * DAY)
    lead = LeadFactory(owner=sdr, email="cto@initech.com", status=Status.QUALIFYING, accepted_at=NOW - 6 * DAY,
                       qualifying_at=NOW - 4 * DAY)

    contact = convert_lead(lead, by=sdr, account=account, now=NOW).contact

    contact = Contact.objects.get(pk=contact.pk)
    assert (contact.accepted_at, contact.qualifying_at) == (NOW - 20 * DAY, NOW - 4 * DAY)
    lead.refresh_from_db()
    assert (lead.accepted_at, lead.qualifying_at) == (NOW - 6 * DAY, NOW - 4 * DAY)


def test_the_migration_fills_them_from_the_history_a_converted_leads_from_its_contacts(sdr):
    own = LeadFactory(owner=sdr, status=Status.QUALIFYING)
    contact = ContactFactory(owner=sdr)
    converted = LeadFactory(owner=sdr, status=Status.QUALIFIED, converted_to=contact)
    Lead.objects.filter(pk=converted.pk).update(created_at=NOW - 30 * DAY)
    history = [(own, None, Status.ACCEPTED, 9), (own, None, Status.ACCEPTED, 3), (own, None, Status.QUALIFYING, 2),
               (None, contact, Status.ACCEPTED, 40),  # the contact's own, before the lead existed
               (None, contact, Status.ACCEPTED, 12), (None, contact, Status.QUALIFYING, 11)]
    for lead, person, new, days_ago in history:
        StatusChange.objects.create(lead=lead, contact=person, old=Status.MQL, new=new, cause=Cause.MANUAL,
                                    at=NOW - days_ago * DAY)
    migration = importlib.import_module("leads.migrations.0024_milestones")

    migration.fill(apps, SimpleNamespace(connection=connection))
    migration.fill(apps, SimpleNamespace(connection=connection))  # twice: the same

    own.refresh_from_db(), converted.refresh_from_db(), contact.refresh_from_db()
    assert (own.accepted_at, own.qualifying_at) == (NOW - 9 * DAY, NOW - 2 * DAY)
    assert (converted.accepted_at, converted.qualifying_at) == (NOW - 12 * DAY, NOW - 11 * DAY)
    assert (contact.accepted_at, contact.qualifying_at) == (NOW - 40 * DAY, NOW - 11 * DAY)
    assert Lead.objects.filter(accepted_at__isnull=False).count() == 2
