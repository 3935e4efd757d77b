"""The facts the pure engine decides on (routing/engine.py): a lead's region, segment and
matched account (`classify`, run on every ingest and edit), the account's owners and
open opportunities, owned colleagues at its email domain, and the territories."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from django.db.models import QuerySet

from leads import domains
from leads.models import Account, Lead, Status
from opportunities.models import OPEN_STAGES, Opportunity
from sdrcrm import config
from sdrcrm.models import User

from . import engine, geo, queries, segments
from .models import Territory

REQUEST_BY_SOURCE = {
    "trial_enterprise": engine.TRIAL, "trial_saas": engine.TRIAL,
    "contact_request": engine.CONTACT, "professional_services_request": engine.PROFESSIONAL_SERVICES,
}


def match_account(email: str, company: str) -> Account | None:
    """By email domain (ignoring www.), then by normalised company name. Free-mail
    domains never match."""
    return queries.account_matching(*domains.account_keys(email, company))


def classify(lead: Lead, match: bool = True) -> None:
    """Set region, sub-region, segment and matched account from the lead's fields (not
    saved). `match=False`: the caller has matched the account already (bulk ingest)."""
    lead.email_domain = domains.email_domain(lead.email)
    lead.region, lead.sub_region = geo.region_for(lead.country, lead.state)
    if match and lead.account_id is None:
        lead.account = match_account(lead.email, lead.company)
    account = lead.account
    pubsec = segments.is_public_sector(lead.public_sector or bool(account and account.public_sector),
                                       lead.industry, lead.country)
    size = account.segment if account else segments.segment_for(lead.employee_count)
    lead.segment = "pubsec" if pubsec else size



def load_facts(lead: Lead, request: str, territories: list[engine.TerritoryFacts] | None = None,
               open_opportunity: bool | None = None,
               colleagues: list[engine.DomainLead] | None = None) -> engine.Facts:
    """The engine's facts about `lead`. Replay over many leads passes what it loaded in
    bulk: `territories`, whether the lead's account has an open opportunity, and the owned
    leads at its email domain (`domain_colleagues`)."""
    account_facts = None
    if lead.account_id is not None and not Lead.account.is_cached(lead):
        # Read with its open opportunity in one statement (the account's own query and
        # rule 3's would be two).
        lead.account = queries.account_by_id(lead.account_id)
    account = lead.account
    if account is not None:
        paired = None
        if account.owner_id and account.is_named:  # only named accounts go to the paired SDR
            paired = account.owner.paired_sdr_id
        account_facts = engine.AccountFacts(
            id=account.pk, name=account.name, type=account.type, owner_id=account.owner_id,
            bdr_assigned_id=account.bdr_assigned_id, prospecting_status=account.bdr_prospecting_status,
            has_open_opportunity=has_open_opportunity(account) if open_opportunity is None else open_opportunity,
            is_named=account.is_named,
            abm_tier=account.abm_tier, paired_sdr_id=paired,
        )
    domain = domains.email_domain(lead.email)
    domain_leads: list[engine.DomainLead] = []
    if account is None and domain and not domains.is_free(domain):
        if colleagues is None:
            domain_leads = [engine.DomainLead(*row) for row in _colleagues(domain, lead.pk)]
        else:
            domain_leads = [c for c in colleagues if c.lead_id != lead.pk][:MAX_COLLEAGUES]
    size = lead.segment if lead.segment != "pubsec" else (
        account.segment if account else segments.segment_for(lead.employee_count))
    if territories is None:
        territories = territory_facts(lead.region)
    territory = engine.pick_territory(territories, lead.region, lead.sub_region, lead.country, size)
    return engine.Facts(
        lead_id=lead.pk, segment=size, region=lead.region, sub_region=lead.sub_region, country=lead.country,
        pubsec=lead.segment == "pubsec", request=request or REQUEST_BY_SOURCE.get(lead.lead_source, ""),
        domain=domain, account=account_facts, domain_leads=domain_leads,
        territory_sdr_id=territory.sdr_id if territory else None, territory_name=territory.name if territory else "",
    )


def batch_facts(leads: Sequence[Lead]) -> list[engine.Facts | None]:
    """load_facts(lead, "") for many new leads at once (routing/batch.py), in at most three
    queries whatever their number: the open opportunities of their accounts, the paired
    SDRs of their named accounts' owners, and which of their domains have owned
    colleagues. None for a lead with colleagues (rules 4 and 5: the careful path decides
    those, one lead at a time)."""
    accounts = {lead.account.pk: lead.account for lead in leads if lead.account is not None}
    open_ids = set(open_opportunities().filter(account_id__in=accounts).values_list("account_id", flat=True)
                   ) if accounts else set()
    owner_ids = {a.owner_id for a in accounts.values()
                 if a.owner_id and a.is_named and not Account.owner.is_cached(a)}
    if owner_ids:  # load_facts reads account.owner.paired_sdr_id: read them all here
        owners = User.objects.in_bulk(owner_ids)
        for account in accounts.values():
            if account.owner_id in owners:
                account.owner = owners[account.owner_id]
    wanted = {domains.email_domain(lead.email) for lead in leads if lead.account is None}
    wanted = {domain for domain in wanted if domain and not domains.is_free(domain)}
    crowded = set(COLLEAGUES.filter(email_domain__in=wanted).values_list("email_domain", flat=True).distinct()
                  ) if wanted else set()
    found: list[engine.Facts | None] = []
    for lead in leads:
        account = lead.account
        if account is None and domains.email_domain(lead.email) in crowded:
            found.append(None)
            continue
        found.append(load_facts(lead, "", open_opportunity=account is not None and account.pk in open_ids,
                                colleagues=[]))
    return found


# Rules 4 and 5 look at owned leads of the same company domain that are MQL or being worked.
COLLEAGUE_STATUSES = (Status.MQL, Status.ACCEPTED, Status.QUALIFYING)
COLLEAGUES = Lead.objects.filter(owner__isnull=False, status__in=COLLEAGUE_STATUSES)
MAX_COLLEAGUES = 50


def _colleagues(domain: str, exclude: int | None) -> list[list[Any]]:
    """COLLEAGUES at the domain but the lead itself: (id, owner, status, mql_at) rows."""
    return queries.colleagues(domain, exclude, [status.value for status in COLLEAGUE_STATUSES], MAX_COLLEAGUES)


def domain_colleagues(leads: Sequence[Lead]) -> dict[str, list[engine.DomainLead]]:
    """load_facts' `colleagues` for many leads at once (replay): one query per call."""
    wanted = {lead.email_domain for lead in leads
              if lead.account_id is None and lead.email_domain and not domains.is_free(lead.email_domain)}
    found: dict[str, list[engine.DomainLead]] = {domain: [] for domain in wanted}
    for domain, *row in COLLEAGUES.filter(email_domain__in=wanted).values_list(
            "email_domain", "pk", "owner_id", "status", "mql_at"):
        found[domain].append(engine.DomainLead(*row))
    return found


def has_open_opportunity(account: Account) -> bool:
    """Read with the account when routing read it (routing.queries.OPEN_OPPORTUNITY)."""
    known = getattr(account, "open_opportunity", None)
    if known is not None:
        return bool(known)
    return queries.has_open_opportunity(account.pk)


def open_opportunities() -> QuerySet[Opportunity]:
    """Routing rule 3's "open opportunity": any stage before closed (pre-opportunity included)."""
    return Opportunity.objects.filter(stage__in=OPEN_STAGES)


def territory_facts(region: str | None = None) -> list[engine.TerritoryFacts]:
    """Every territory, or those of one region (the only ones pick_territory can choose),
    from the per-process configuration cache."""
    return [t for t in config.get("territories") if region is None or t.region == region]


def read_territories() -> tuple[engine.TerritoryFacts, ...]:
    return tuple(
        engine.TerritoryFacts(t.pk, t.name, t.region, t.sub_region, tuple(t.country_list()), t.segment, t.sdr_id)
        for t in Territory.objects.order_by("pk")
    )
