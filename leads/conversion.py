"""Converting a lead (docs/rules.md §4): the lead becomes a contact at an account (an existing one,
its matched one or a new one), takes its activities, score ledger, history, IQMs and
enrolments there, is set Qualified with `converted_to`, and may open an opportunity.

Reseller deals follow the handbook's third-party steps: the end user's lead is converted
with the opportunity ("<End user> via <Reseller>"), and the reseller's own lead becomes a
contact with role reseller at the reseller's account, owned by the opportunity's owner,
with no opportunity of its own.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from django.db import transaction
from django.utils import timezone

from opportunities import services as opportunities
from opportunities.models import IQM, Opportunity, Source, Stage
from scoring import services as scoring
from scoring.models import ScoreEntry
from sdrcrm import webhooks
from sdrcrm.errors import Refused
from sdrcrm.models import SELLING_ROLES, Role, User
from sdrcrm.webhooks import AssignCause

from . import accounts, checks, domains, lifecycle, sequences
from .models import (
    OPEN_STATUSES,
    PERSON_COPY_FIELDS,
    Account,
    AccountType,
    Activity,
    Cause,
    Contact,
    Enrollment,
    Lead,
    Status,
    StatusChange,
    Task,
)

NEW_ACCOUNT_FIELDS = frozenset({"name", "domain", "industry", "employee_count", "country", "type"})
OPPORTUNITY_FIELDS = frozenset({
    "owner", "name", "iacv", "sdr", "source", "professional_services", "authority_confirmed", "business_problem",
    "initiative", "current_tools", "entry_use_case", "potential_seats", "deployment_preference", "tech_stack",
    "competition",
})
# Who converts decides where the opportunity came from, unless the caller says.
SOURCE_BY_ROLE = {Role.SDR: Source.SDR_GENERATED, Role.BDR: Source.BDR_GENERATED,
                  Role.SAL: Source.AE_GENERATED, Role.AE: Source.AE_GENERATED}
MAX_IACV = 10**12 - 1  # the largest whole amount the 14-digit, 2-decimal column holds


@dataclass
class Conversion:
    lead: Lead
    contact: Contact
    account: Account
    opportunity: Opportunity | None = None
    reseller_contact: Contact | None = None


@transaction.atomic
def convert_lead(
    lead: Lead,
    *,
    by: User | None,
    account: Account | None = None,
    new_account: Mapping[str, Any] | None = None,
    contact_owner: User | None = None,
    opportunity: Mapping[str, Any] | None = None,
    reseller: Mapping[str, Any] | None = None,
    cause: str = Cause.MANUAL,
    now: datetime | None = None,
) -> Conversion:
    """Convert `lead` in one transaction; any refusal (here or from the opportunity rules)
    leaves nothing behind.

    `account`: an existing account, else `new_account` (name required; domain, industry,
    employee_count, country, type), else the lead's matched account. `opportunity`: the
    Opportunity fields of OPPORTUNITY_FIELDS (owner required). `reseller`: {"lead": the
    reseller's lead, "account": its account or None, "new_account": {...} or None}.
    Access is the caller's to check: every record given here is one `by` may use.
    """
    now = now or timezone.now()
    reseller_lead = reseller.get("lead") if reseller is not None else None
    _lock(lead, reseller_lead)
    _check_not_converted(lead, field="lead")
    if account is not None and new_account:
        raise Refused("Give an existing account or a new one, not both.", field="new_account")
    if account is not None and account.deleted_at is not None:  # a matched account deleted since
        raise Refused(f"{account.name} (account {account.pk}) is deleted; convert into another account or a new one.",
                      field="account", status=409)
    if reseller is not None:
        _check_reseller(lead, reseller_lead, opportunity)
    opportunity_data = _opportunity_data(opportunity, by) if opportunity is not None else None
    owner = opportunity_data["owner"] if opportunity_data else None

    target, into_customer = _target_account(lead, account, new_account, by, owner)

    if contact_owner is None:
        contact_owner = target.owner if into_customer and target.owner_id else lead.owner
    else:
        _check_contact_owner(contact_owner, target, by)
    lead_iqms: list[int] = []
    if opportunity_data is not None:  # read before they move to the contact, among its own
        lead_iqms = list(IQM.objects.filter(lead=lead, opportunity=None).values_list("pk", flat=True))
    contact = _convert_person(lead, target, owner=contact_owner, by=by, cause=cause, now=now)

    reseller_contact = None
    reseller_account = None
    if reseller is not None and reseller_lead is not None and owner is not None:  # _check_reseller made sure
        reseller_account = _reseller_account(reseller, reseller_lead, target, by, owner)
        # Handbook, third parties: "Assign record to the same account owner" as the deal.
        reseller_contact = _convert_person(reseller_lead, reseller_account, owner=owner, by=by, cause=cause, now=now,
                                           role=Contact.Role.RESELLER, take_owner=True)

    created = None
    if opportunity_data is not None:
        created = _open_opportunity(opportunity_data, lead, target, contact, reseller_account, reseller_contact,
                                    by, now)
        _hand_off(created, contact, lead_iqms, cause, by, now)
    return Conversion(lead=lead, contact=contact, account=target, opportunity=created,
                      reseller_contact=reseller_contact)


def _target_account(lead: Lead, account: Account | None, new_account: Mapping[str, Any] | None, by: User | None,
                    owner: User | None) -> tuple[Account, bool]:
    """The account to convert into (created from `new_account` if need be), and whether it
    is an existing customer account; refuses a lead whose status does not allow it."""
    existing = account or (None if new_account else lead.account)
    # docs/rules.md §3: Qualifying is needed, except into an *existing* customer account (routing
    # rule 2, the handbook's "convert the lead into the customer account"); typing a new
    # account as a customer is no way around qualifying.
    into_customer = existing is not None and existing.type == AccountType.CUSTOMER
    _check_status(lead, OPEN_STATUSES if into_customer else {Status.QUALIFYING}, field="status")
    if existing is None and not new_account:
        raise Refused("Pick the account to convert into: the matched account, another account or a new one "
                      "(this lead matches no account).", field="account")
    return existing or _create_account(new_account or {}, by, owner=owner, field="new_account"), into_customer


def _hand_off(opportunity: Opportunity, contact: Contact, lead_iqms: list[int], cause: str, by: User | None,
              now: datetime) -> None:
    """What opening the deal at conversion brings with it."""
    # The lead's IQMs led to this deal (the IQM → SAO figures follow the link); one
    # already tied to another opportunity keeps it.
    IQM.objects.filter(pk__in=lead_iqms).update(opportunity=opportunity)
    # Qualified = "OPP created & hand off to Sales" (handbook): the contact leaves the
    # working views. A closed contact (unqualified, bad data) keeps its status.
    if contact.status in OPEN_STATUSES:
        lifecycle.move_status(contact, Status.QUALIFIED, cause=cause, by=by, now=now)


def _lock(*leads: Lead | None) -> None:
    """Lock the leads' rows (in id order, so two conversions naming the same two leads
    cannot deadlock) and refresh them: a conversion that waited sees the first one's result."""
    for person in sorted((p for p in leads if p is not None), key=lambda p: p.pk):
        person.refresh_from_db(from_queryset=Lead.objects.select_for_update(of=("self",)))


def _check_not_converted(lead: Lead, field: str) -> None:
    if lead.is_converted:
        raise Refused(f"{lead.full_name or lead.email} was already converted.", field=field)


def _check_status(lead: Lead, allowed: set[str] | frozenset[str], field: str, who: str = "This lead") -> None:
    if lead.status in allowed:
        return
    label = Status(lead.status).label
    if lead.status in OPEN_STATUSES:
        raise Refused(f"{who} is {label}: it must be Qualifying to be converted (only a lead at an existing "
                      "customer account is converted from any open status).", field=field)
    raise Refused(f"{who} is {label}, a closed status: it cannot be converted.", field=field)


def _check_reseller(lead: Lead, reseller_lead: Lead | None, opportunity: Mapping[str, Any] | None) -> None:
    if reseller_lead is None:
        raise Refused("A reseller deal needs the reseller's lead.", field="reseller")
    if reseller_lead.pk == lead.pk:
        raise Refused("The reseller's lead must be another lead than the end user's.", field="reseller")
    _check_not_converted(reseller_lead, field="reseller")
    # The reseller is a third party, not a qualified buyer: its lead becomes a contact from
    # any open status (handbook, "Working with 3rd Parties" step 4), never from a closed one.
    _check_status(reseller_lead, OPEN_STATUSES, field="reseller", who="The reseller's lead")
    if opportunity is None:
        raise Refused("A reseller deal is converted with the end user's opportunity: give the opportunity too.",
                      field="opportunity")


def _opportunity_data(data: Mapping[str, Any], by: User | None) -> dict[str, Any]:
    unknown = set(data) - OPPORTUNITY_FIELDS
    if unknown:
        raise Refused(f"Unknown opportunity fields: {', '.join(sorted(unknown))}.", field="opportunity")
    data = dict(data)
    owner = data.get("owner")
    if owner is None:
        raise Refused("The opportunity needs an owner (a SAL or AE).", field="opportunity")
    if owner.role not in SELLING_ROLES or not owner.is_active:
        raise Refused(f"{owner.username} cannot own the opportunity: it goes to an active SAL or AE.",
                      field="opportunity")
    if by is not None:  # the converting SDR/BDR is credited unless someone else is named
        data = opportunities.with_defaults(data, by)
    if not data.get("source") and by is not None and by.role in SOURCE_BY_ROLE:
        data["source"] = SOURCE_BY_ROLE[Role(by.role)]
    return data


def _create_account(data: Mapping[str, Any], by: User | None, owner: User | None, field: str,
                    account_type: str | None = None) -> Account:
    """A new account through accounts.save_account (which derives segment, region and the
    name key). With an opportunity, its owner owns the account too: sellers see only the
    accounts they own, and the deal's account must be theirs to see."""
    unknown = set(data) - NEW_ACCOUNT_FIELDS
    if unknown:
        raise Refused(f"Unknown account fields: {', '.join(sorted(unknown))}.", field=field)
    values = {key: value for key, value in data.items() if value is not None}
    values["name"] = str(values.get("name") or "").strip()
    if not values["name"]:
        raise Refused("A new account needs a name.", field=field)
    if account_type is not None:
        values["type"] = account_type
    if values.get("type", AccountType.PROSPECT) not in AccountType.values:
        raise Refused(f"'{values['type']}' is not an account type.", field=field)
    domain = domains.normalise_domain(str(values.get("domain") or ""))
    # Handbook: search for the account before creating one; a second account for the same
    # domain would split its people and break lead matching.
    if domain and Account.objects.filter(domain=domain).exists():
        raise Refused(f"An account with the domain {domain} already exists; convert into that account instead.",
                      field=field)
    if owner is not None:
        values["owner"] = owner
    return accounts.save_account(Account(created_by=by), values)


def _reseller_account(reseller: Mapping[str, Any], reseller_lead: Lead, end_user: Account, by: User | None,
                      owner: User) -> Account:
    account = reseller.get("account")
    new = reseller.get("new_account")
    if account is not None and new:
        raise Refused("Give the reseller's existing account or a new one, not both.", field="reseller")
    if account is None and not new:
        account = reseller_lead.account
        if account is None:
            raise Refused("Pick the reseller's account, or give a new one to create "
                          "(the reseller's lead matches no account).", field="reseller")
    if account is None:
        # Handbook: "If an account does not already exist for the reseller, create one".
        account = _create_account(new, by, owner=owner, field="reseller", account_type=AccountType.RESELLER)
    if account.pk == end_user.pk:
        raise Refused("The reseller's account must be another account than the end user's.", field="reseller")
    return account


def _check_contact_owner(owner: User, account: Account, by: User | None) -> None:
    """Who may be given the contact: whom `by` may assign records to, and always the
    account's owner (contacts of field-sales accounts are owned by the account owner)."""
    if owner.pk == account.owner_id:
        if not owner.is_active:
            raise Refused(f"{owner.username} is not an active user.", field="contact_owner")
        return
    try:
        checks.check_owner_assignable(owner, by)
    except Refused as refused:
        raise Refused(refused.message, field="contact_owner") from None




def _convert_person(lead: Lead, account: Account, *, owner: User | None, by: User | None, cause: str,
                    now: datetime, role: str = "", take_owner: bool = False) -> Contact:
    """Make one lead a contact of `account` (merging into the contact with its email there,
    which keeps its own values and gains only what it lacks), move what belongs to the
    person, and close the lead as Qualified pointing at the contact."""
    contact = (Contact.objects.select_for_update().filter(account=account, email__iexact=lead.email)
               .order_by("id").first())
    if contact is None:
        fields = {f: getattr(lead, f) for f in (*PERSON_COPY_FIELDS, *lifecycle.MILESTONES)}
        fields["company"] = lead.company or account.name
        contact = Contact.objects.create(
            **fields, account=account, owner=owner, role=role,
            status=lead.status, status_reason=lead.status_reason, status_changed_at=lead.status_changed_at,
            # The ledger moves over as it is, so the same behaviour counts from the same moment.
            behaviour_counted_since=lead.behaviour_counted_since, created_by=by,
        )
    else:
        _fill_blanks(contact, lead)
        if role:
            contact.role = role
        if owner is not None and (take_owner or contact.owner_id is None):
            contact.owner, contact.queue = owner, None
        contact.save()

    moved_to = {"lead": None, "contact": contact}
    Activity.objects.filter(lead=lead).update(**moved_to)
    ScoreEntry.objects.filter(lead=lead).update(**moved_to)
    StatusChange.objects.filter(lead=lead).update(**moved_to)
    Task.objects.filter(lead=lead).update(**moved_to)  # the next steps follow the person
    IQM.objects.filter(lead=lead, account=None).update(account=account)
    IQM.objects.filter(lead=lead).update(**moved_to)
    # Finished first: a contact may hold one active enrolment, and the lead's cadence ends here.
    sequences.finish_enrollments(lead, sequences.Reason.CONVERTED, now)
    Enrollment.objects.filter(lead=lead).update(**moved_to)

    lifecycle.move_status(lead, Status.QUALIFIED, cause=cause, by=by, now=now)
    # An unowned lead (routing rule 2) goes to whoever owns its contact; an owned one keeps
    # its owner, who converted it. Either way it leaves any queue.
    lead_owner_id = lead.owner_id or (owner.pk if owner is not None else None)
    Lead.objects.filter(pk=lead.pk).update(converted_to=contact, owner_id=lead_owner_id, queue=None, updated_at=now)
    webhooks.emit_assigned([(lead.pk, lead.owner_id, lead_owner_id)],
                           AssignCause.ROUTING if cause == Cause.ROUTING else AssignCause.CONVERSION, now)
    lead.converted_to, lead.owner_id, lead.queue = contact, lead_owner_id, None
    scoring.rescore(contact, now=now)
    return contact


def _fill_blanks(contact: Contact, lead: Lead) -> None:
    for field in PERSON_COPY_FIELDS:
        if not getattr(contact, field) and getattr(lead, field):
            setattr(contact, field, getattr(lead, field))
    for name, value in lifecycle.combined_milestones(contact, lead).items():
        setattr(contact, name, value)


def _open_opportunity(data: dict[str, Any], lead: Lead, account: Account, contact: Contact,
                      reseller_account: Account | None, reseller_contact: Contact | None,
                      by: User | None, now: datetime) -> Opportunity:
    if not data.get("name"):
        data["name"] = opportunities.default_name(account, reseller_account)
    values = {**data, "stage": Stage.PENDING_ACCEPTANCE, "lead": lead, "primary_contact": contact}
    if reseller_account is not None:
        values.update(reseller_account=reseller_account, reseller_contact=reseller_contact)
    return opportunities.create_opportunity(account, values, by, now)
