"""The checks every way in for a person shares (single and bulk ingest, edits, contacts,
conversion): an email we accept, names and owner/queue cleaned, an owner the caller may
give records to. They refuse with a message in words (sdrcrm.errors.Refused)."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date
from typing import Any

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import validate_email

from sdrcrm import config
from sdrcrm.errors import Refused
from sdrcrm.models import Role, User

from . import domains
from .models import BlockedDomain, Erasure, Lead

NAME_FIELDS = ("first_name", "last_name")


def check_not_deleted(lead: Lead) -> None:
    """docs/rules.md §11.2: a deleted lead keeps its email until it is purged, so nothing
    ingests or takes it meanwhile; ops restore the lead instead (409, in words)."""
    if lead.deleted_at is not None:
        raise Refused(f"The lead with the email {lead.email} was deleted on {lead.deleted_at:%Y-%m-%d}; Sales-Dev Ops "
                      f"can restore it from Recently deleted (for {settings.TRASH_RETENTION_DAYS} days after its "
                      "deletion).", field="email", status=409)


def normalise_email(email: str) -> str:
    """How every email is stored and looked up: stripped and lower-cased."""
    return email.strip().lower()


def check_email_allowed(email: str, blocked: set[str] | None = None) -> str:
    """Return the normalised (lower-cased) email, or refuse it with the reason. `blocked`:
    the block list's domains when the caller has already looked them up (bulk ingest)."""
    email = normalise_email(email)
    try:
        validate_email(email)
    except ValidationError:
        raise Refused(f"'{email}' is not a valid email address.", field="email") from None
    check_not_erased(email)
    domain = domains.email_domain(email)
    if domains.is_disposable(domain):
        raise Refused(
            f"'{domain}' is a disposable (self-terminating) email domain; use a real address.",
            field="email",
        )
    if domain in (blocked if blocked is not None else config.get("blocked_domains")):
        raise Refused(f"'{domain}' is on the ops block list; leads from it are not accepted.", field="email")
    return email


def read_blocked_domains() -> frozenset[str]:
    """Ops' block list (docs/rules.md §3), cached by sdrcrm.config: it changes when ops
    block a domain or the spam job does, and every ingest asked the database before."""
    return frozenset(BlockedDomain.objects.values_list("domain", flat=True))


def read_erased_emails() -> dict[str, date]:
    """The hashes of the emails erased on request (docs/rules.md §11.3) that ingest refuses,
    with the day of each erasure; cached by sdrcrm.config, as erasures are rare and every
    ingest asks."""
    return {row.email_hash: row.erased_at.date()
            for row in Erasure.objects.filter(lifted_at=None).only("email_hash", "erased_at")}


def check_not_erased(email: str) -> None:
    """Refuse the email of a person erased on request, until ops lift the block."""
    erased = config.get("erased_emails")
    if erased and (day := erased.get(domains.hash_email(email))):
        raise Refused(f"This person was erased on request on {day:%Y-%m-%d} and may not be added again unless "
                      "Sales-Dev Ops lift the block.", field="email", status=409)


def clean_person_fields(data: Mapping[str, Any]) -> dict[str, Any]:
    """Names properly capitalised; an owner or a queue, never both (the owner wins)."""
    cleaned = dict(data)
    for field in NAME_FIELDS:
        if cleaned.get(field):
            cleaned[field] = domains.capitalise_name(cleaned[field])
    if "owner" in cleaned and cleaned["owner"] is not None:
        cleaned["queue"] = None
    elif cleaned.get("queue") is not None:
        cleaned["owner"] = None
    return cleaned


def check_owner_assignable(owner: User | None, by: User | None) -> None:
    """Who may give a record to whom: SDRs only to themselves (adopting), managers within
    their teams, ops and integrations to anyone active."""
    if owner is None or by is None:
        return
    if not owner.is_active:
        raise Refused(f"{owner.username} is not an active user.", field="owner")
    if by.is_ops or by.role == Role.INTEGRATION or owner == by:
        return
    if by.is_manager and owner.team_id in by.managed_team_ids():
        return
    raise Refused(f"You may not assign records to {owner.username}.", field="owner")
