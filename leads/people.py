"""Editing leads and contacts by hand (the API, the pages, the admin), creating contacts,
and finding a person by email. Status changes go through leads/lifecycle.py; a new lead
comes in through the ingest pipeline (leads/services.py)."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any

from django.db import transaction
from django.db.models import QuerySet
from django.utils import timezone

from routing import facts as routing_facts
from routing import services as routing
from sdrcrm import field_history, webhooks
from sdrcrm.errors import Refused
from sdrcrm.models import User
from sdrcrm.webhooks import AssignCause

from . import checks, queries, sequences, services
from .models import Contact, Lead, Person


@transaction.atomic
def update_person(person: Person, data: Mapping[str, Any], by: User | None,
                  cause: AssignCause = AssignCause.EDIT) -> Person:
    """Edit the plain fields of a lead or contact (status goes through `transition`):
    the email is checked again, the lead re-classified, a new owner's SLA clock started
    (and lead.assigned sent, saying `cause`), a changed title or email re-scored, and
    every changed field written to its history."""
    data = checks.clean_person_fields(data)
    if "initial_source" in data and data["initial_source"] != person.initial_source:
        raise Refused(
            f"initial_source is set once and never changes (it is '{person.initial_source}').",
            field="initial_source",
        )
    if "status" in data and data["status"] != person.status:
        raise Refused("Change the status with the status action, not by editing the record.", field="status")
    if "email" in data and data["email"] != person.email:
        if isinstance(person, Lead):
            data["email"] = checks.check_email_allowed(data["email"])
            other = Lead.all_objects.filter(email=data["email"]).exclude(pk=person.pk).first()
            if other is not None:
                checks.check_not_deleted(other)
                raise Refused(f"Another lead already has the email {data['email']}.", field="email")
        elif data["email"]:
            data["email"] = checks.check_email_allowed(data["email"])
    new_owner = "owner" in data and data["owner"] != person.owner
    if new_owner:
        checks.check_owner_assignable(data["owner"], by)
    was_inactive, old_owner = person.inactive, person.owner_id
    before = field_history.values_of(person, data)
    for field, value in data.items():
        setattr(person, field, value)
    if isinstance(person, Lead):
        routing_facts.classify(person)
    person.save()
    field_history.record(person, before, by)
    services.finish_sequences_if_inactive(person, was_inactive)
    if new_owner:
        sequences.follow_owner(person)
    if new_owner and isinstance(person, Lead):
        webhooks.emit_assigned([(person.pk, old_owner, person.owner_id)], cause)
    if new_owner and isinstance(person, Lead) and person.sla_due_at and person.owner_id:
        # The new owner gets their own business day, not what is left of the last one's.
        routing.start_sla_clock(person, person.owner_id, person.sla_pool, timezone.now())
    if {"title", "email"} & data.keys():
        services.score_and_advance(person, new_types=set(), now=timezone.now())
    return person


@transaction.atomic
def create_contact(data: Mapping[str, Any], by: User | None, now: datetime | None = None) -> Contact:
    data = checks.clean_person_fields(data)
    if data.get("email"):
        data["email"] = checks.check_email_allowed(data["email"])
    if not data.get("initial_source"):
        raise Refused("initial_source is required for a new contact.", field="initial_source")
    checks.check_owner_assignable(data.get("owner"), by)
    return Contact.objects.create(created_by=by, status_changed_at=now or timezone.now(), **data)


def find_person_by_email(email: str, user: User | None, lock: bool = False) -> Lead | Contact | None:
    """The lead with this email, else the newest contact with it, among what `user` sees
    (everyone's when `user` is None); `lock`: its row locked to the end of the transaction
    (services.record_activity's `locked`)."""
    email = checks.normalise_email(email)
    # A converted lead lives on as its contact.
    if user is None:
        lead = queries.lead_by_email(email, unconverted=True, live=True, lock=lock)
    else:
        lead = locking(Lead.objects.visible_to(user), lock).filter(email=email, converted_to__isnull=True).first()
    if lead is not None:
        return lead
    contacts = Contact.objects.all() if user is None else Contact.objects.visible_to(user)
    return locking(contacts, lock).filter(email=email).order_by("-id").first()


def locking(queryset: QuerySet, lock: bool) -> QuerySet:
    """`queryset`, its rows locked to the end of the transaction when `lock` (its own
    table's only: the access filters join others)."""
    return queryset.select_for_update(of=("self",)) if lock else queryset
