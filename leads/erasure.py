"""Erasure on request (docs/rules.md §11.3, GDPR art. 17): ops erase a person — every lead
and contact with their email — and the names, email, phone and free text about them are
anonymised wherever the CRM keeps them: the records themselves, their activities, field
history, merge snapshots, tasks, IQMs, alerts, routing explanations, import rows, the
webhook outbox and stored API answers. What the business counts stays: the records keep
their ids, statuses, scores, owners, accounts and opportunities, so queues, funnels and
quotas do not move. An `Erasure` row keeps who asked and when, and the email's hash, which
refuses the person at ingest and import until ops lift the block.

Records are found by their links to the erased people; the tables without such a link
(import rows, the outbox, stored answers, merge snapshots) by the email in their text.
Within each record the person's values are replaced where they appear as whole words, so
a note about a call keeps what it says about the deal."""

from __future__ import annotations

import re
from collections.abc import Iterable
from datetime import date, datetime
from typing import Any

from django.core.exceptions import ValidationError
from django.core.validators import validate_email
from django.db import transaction
from django.db.models import Model, Q, QuerySet, TextField
from django.db.models.functions import Cast
from django.utils import timezone

from opportunities.models import IQM, Opportunity
from routing.models import RoutingDecision
from scoring.models import ScoreEntry
from sdrcrm.errors import Refused
from sdrcrm.models import FieldChange, IdempotentRequest, Notification, User, WebhookEvent

from .domains import hash_email
from .models import Activity, Contact, Erasure, ImportRow, Lead, SequenceEvent, Task, Tombstone

ERASED = "[erased]"
# The person's own fields: emptied (the last name, required, becomes ERASED; a lead's email,
# unique and required, a placeholder on its id).
PERSON_FIELDS = ("first_name", "last_name", "title", "phone", "city", "state", "last_interesting_moment")
# Where else text about the person is kept, by the link to them: (model, the link to the
# lead, the link to the contact, the text fields).
LINKED: tuple[tuple[type[Model], str | None, str | None, tuple[str, ...]], ...] = (
    (Activity, "lead", "contact", ("details",)),
    (Task, "lead", "contact", ("title",)),
    (IQM, "lead", "contact", ("subject", "description", "location")),
    (Opportunity, "lead", "primary_contact", ("name", "business_problem", "current_tools", "entry_use_case",
                                              "tech_stack", "competition", "closed_lost_details",
                                              "closed_won_details")),
    (Notification, "lead", None, ("message",)),
    (RoutingDecision, "lead", None, ("reason", "inputs", "candidates")),
    (ScoreEntry, "lead", "contact", ("reason",)),
    (SequenceEvent, "enrollment__lead", "enrollment__contact", ("result",)),
)
# Tables without a link to the person, searched for the email in their text.
UNLINKED: tuple[tuple[type[Model], tuple[str, ...]], ...] = (
    (ImportRow, ("data", "values")),
    (WebhookEvent, ("payload",)),
    (IdempotentRequest, ("response",)),
)


@transaction.atomic
def erase_person(email: str, requested_by: str, by: User, requested_on: date | None = None,
                 now: datetime | None = None) -> Erasure:
    """Erase every lead and contact with `email` (ops only); `requested_by` says who asked."""
    if not by.is_ops:
        raise Refused("Only ops may erase a person.", status=403)
    email = (email or "").strip().lower()
    try:
        validate_email(email)
    except ValidationError:
        raise Refused(f"'{email}' is not a valid email address.", field="email") from None
    requested_by = (requested_by or "").strip()
    if not requested_by:
        raise Refused("Say who asked for the erasure (the person, or who on their behalf).", field="requested_by")
    if len(requested_by) > 200:
        raise Refused("Who asked is at most 200 characters.", field="requested_by")
    now = now or timezone.now()
    # Deleted records too: a soft-deleted lead is still the person's data.
    leads = list(Lead._base_manager.select_for_update().filter(email=email))
    contacts = list(Contact._base_manager.select_for_update().filter(email__iexact=email))
    if not leads and not contacts and Erasure.objects.filter(email_hash=hash_email(email), lifted_at=None).exists():
        raise Refused("This person has already been erased.", field="email", status=409)
    lead_ids, contact_ids = [lead.pk for lead in leads], [contact.pk for contact in contacts]
    history = FieldChange.objects.filter(Q(record=FieldChange.Record.LEAD, record_id__in=lead_ids) | Q(
        record=FieldChange.Record.CONTACT, record_id__in=contact_ids))
    # A merge keeps the record merged away whole: the person's own, or a duplicate merged
    # into one of their leads, with its own email and phone.
    merges = Tombstone.objects.filter(Q(email_hash=hash_email(email)) | Q(merged_into_id__in=lead_ids),
                                      kind=Tombstone.Kind.MERGE)
    values = person_values(email, [*leads, *contacts], history, merges)
    for lead in leads:
        _anonymise(lead, f"erased-{lead.pk}@erased.invalid")
    for contact in contacts:
        _anonymise(contact, "")
    Lead._base_manager.bulk_update(leads, ["email", *PERSON_FIELDS, "updated_at"])
    Contact._base_manager.bulk_update(contacts, ["email", *PERSON_FIELDS, "updated_at"])
    pattern = _pattern(values)
    for model, to_lead, to_contact, fields in LINKED:
        linked = Q(pk__in=[])
        if to_lead and lead_ids:
            linked |= Q(**{f"{to_lead}__in": lead_ids})
        if to_contact and contact_ids:
            linked |= Q(**{f"{to_contact}__in": contact_ids})
        _scrub(model._base_manager.filter(linked), fields, pattern)
    _scrub(history, ("old", "new"), pattern)
    _scrub(merges, ("snapshot",), pattern)
    emails = [value for value in values if "@" in value]
    for model, fields in UNLINKED:
        mentions = Q(pk__in=[])
        for name in fields:
            for address in emails:
                mentions |= Q(**{f"{name}_text__icontains": address})
        found = model.objects.annotate(**{f"{name}_text": Cast(name, TextField()) for name in fields})
        _scrub(found.filter(mentions), fields, pattern)
    return Erasure.objects.create(email_hash=hash_email(email), requested_by=requested_by,
                                  requested_on=requested_on or now.date(), erased_by=by, erased_at=now,
                                  leads=len(leads), contacts=len(contacts))


def person_values(email: str, people: Iterable[Any], history: QuerySet[FieldChange],
                  merges: QuerySet[Tombstone]) -> list[str]:
    """What identifies the person in text: each email, name, full name and phone they have,
    had (field history), or had on a duplicate merged into them."""
    values = {email}
    records = [{name: getattr(person, name) for name in ("first_name", "last_name", "phone", "email")}
               for person in people]
    for tombstone in merges.only("snapshot"):  # leads/merge.py: the lead merged away, the survivor before and after
        records += [part for part in tombstone.snapshot.values() if isinstance(part, dict)]
    for record in records:
        first, last = str(record.get("first_name") or ""), str(record.get("last_name") or "")
        values.update({first, last, f"{first} {last}".strip(), str(record.get("phone") or ""),
                       str(record.get("email") or "")})
    for change in history.filter(field__in=("first_name", "last_name", "phone", "email")).only("old", "new"):
        values.update({change.old or "", change.new or ""})
    return sorted((value for value in values if len(value.strip()) > 1), key=len, reverse=True)  # whole names first


def _pattern(values: list[str]) -> re.Pattern[str]:
    # Whole words only: erasing "Ana" leaves "Analytics" alone.
    return re.compile("|".join(rf"(?<!\w){re.escape(value)}(?!\w)" for value in values), re.IGNORECASE)


def _anonymise(person: Any, email: str) -> None:
    person.email = email
    for name in PERSON_FIELDS:
        setattr(person, name, "")
    person.last_name = ERASED
    person.updated_at = timezone.now()


def _scrub(rows: QuerySet, fields: tuple[str, ...], pattern: re.Pattern[str]) -> None:
    """Replace the person's values in `fields` of `rows`, writing only the rows that change."""
    changed = []
    for row in rows.only("pk", *fields).iterator(chunk_size=500):
        before = [getattr(row, name) for name in fields]
        for name in fields:
            setattr(row, name, _scrubbed(getattr(row, name), pattern))
        if [getattr(row, name) for name in fields] != before:
            changed.append(row)
    if changed:
        type(changed[0])._base_manager.bulk_update(changed, list(fields), batch_size=500)


def _scrubbed(value: Any, pattern: re.Pattern[str]) -> Any:
    if isinstance(value, str):
        return pattern.sub(ERASED, value)
    if isinstance(value, list):
        return [_scrubbed(item, pattern) for item in value]
    if isinstance(value, dict):
        return {key: _scrubbed(item, pattern) for key, item in value.items()}
    return value


@transaction.atomic
def lift_block(erasure: Erasure, by: User, now: datetime | None = None) -> Erasure:
    """Let the erased email be added again (the person came back and asked to be)."""
    if not by.is_ops:
        raise Refused("Only ops may lift an erasure's block.", status=403)
    if erasure.lifted_at is not None:
        raise Refused(f"This block was lifted on {erasure.lifted_at:%d %b %Y}.", status=409)
    erasure.lifted_at, erasure.lifted_by = now or timezone.now(), by
    erasure.save(update_fields=["lifted_at", "lifted_by"])  # the config cache sees it (leads/apps.py)
    return erasure
