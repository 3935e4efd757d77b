"""The routing rules as a pure function: facts about a lead in, a decision out, with its
reason in words. The first enabled rule that matches decides. No database here:
routing/facts.py loads the facts and routing/services.py carries the decision out."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

TRIAL = "trial_request"
CONTACT = "contact_request"
PROFESSIONAL_SERVICES = "professional_services_request"
UNASSIGNED = "Unassigned"
# What a decision does (routing.models.RoutingDecision.Action stores them).
OWNER, POOL, QUEUE, CONVERT, RECYCLE = "owner", "pool", "queue", "convert", "recycle"
ACTIONS = (OWNER, POOL, QUEUE, CONVERT, RECYCLE)

# The BDR pool of each region (docs/rules.md §2 rule 7): EMEA has its own; AMER and APAC share one.
BDR_POOLS = {"emea": "EMEA BDR", "amer": "US/APAC BDR", "apac": "US/APAC BDR"}
DEFAULT_PARAMS: dict[str, dict[str, Any]] = {
    "professional_services": {"pools": BDR_POOLS},
    "trial": {"pools": {"emea": "EMEA BDR", "amer": "US/APAC BDR", "apac": "US/APAC BDR",
                        "pubsec": "US/APAC BDR"}},
    "contact_request": {
        "bdr_pools": BDR_POOLS,
        "smb_pools": {"amer": "Customer Advocate AMER", "emea": "Customer Advocate EMEA",
                      "apac": "Customer Advocate APAC"},
        "unknown_pool": "BDR Prequalification",
        "pubsec_pool": "PubSec SDR",
    },
    "named_or_abm": {"abm_pool": "ABM SDR"},
}


@dataclass(frozen=True)
class AccountFacts:
    id: int
    name: str
    type: str
    owner_id: int | None
    bdr_assigned_id: int | None
    prospecting_status: str
    has_open_opportunity: bool = False
    is_named: bool = False
    abm_tier: int | None = None
    paired_sdr_id: int | None = None  # the SDR paired with the account owner (SAL)


@dataclass(frozen=True)
class DomainLead:
    lead_id: int
    owner_id: int
    status: str
    mql_at: datetime | None


@dataclass(frozen=True)
class Facts:
    lead_id: int
    segment: str
    region: str
    sub_region: str
    country: str
    pubsec: bool
    request: str  # the handraise that triggered routing: trial, contact or PS request, or ""
    domain: str
    account: AccountFacts | None = None
    domain_leads: Sequence[DomainLead] = ()
    territory_sdr_id: int | None = None
    territory_name: str = ""

    def as_inputs(self) -> dict[str, Any]:
        return {
            "segment": self.segment, "region": self.region, "sub_region": self.sub_region,
            "country": self.country, "public_sector": self.pubsec, "request": self.request,
            "domain": self.domain, "matched_account": self.account.name if self.account else None,
            "territory": self.territory_name or None,
        }


@dataclass(frozen=True)
class Rule:
    position: int
    kind: str
    label: str = ""
    params: dict[str, Any] = field(default_factory=dict)
    enabled: bool = True

    def param(self, key: str) -> Any:
        return self.params.get(key, DEFAULT_PARAMS.get(self.kind, {}).get(key))


@dataclass(frozen=True)
class Decision:
    """What to do: `owner` (owner_id), `pool` (round robin), `queue`, `convert` (into the
    matched account, for its owner) or `recycle`."""

    action: str
    reason: str
    rule: Rule | None = None
    owner_id: int | None = None
    pool: str = ""
    queue: str = ""
    notify: tuple[str, ...] = ()  # who to tell: "account_owner", "ops", "sdr", "csm"
    candidates: tuple[int, ...] = ()


Check = Callable[[Facts, Rule], Decision | None]


def _account_bdr(f: Facts, rule: Rule) -> Decision | None:
    a = f.account
    if a and a.prospecting_status == "actively_working" and a.bdr_assigned_id:
        return Decision(OWNER, f"{a.name} is actively worked by its BDR, who gets the lead.",
                        owner_id=a.bdr_assigned_id, candidates=(a.bdr_assigned_id,))
    return None


def _customer_smb(f: Facts, rule: Rule) -> Decision | None:
    a = f.account
    if a and a.type == "customer" and f.segment == "smb" and a.owner_id:
        return Decision(CONVERT, f"{a.name} is a customer and the lead is SMB: it becomes a contact of the "
                        "account, owned by the account owner, who is notified.",
                        owner_id=a.owner_id, notify=("account_owner",), candidates=(a.owner_id,))
    return None


def _open_opportunity(f: Facts, rule: Rule) -> Decision | None:
    a = f.account
    if a and a.has_open_opportunity and a.type != "customer":
        return Decision(RECYCLE, f"{a.name} already has an open opportunity: the lead is recycled "
                        "(evaluating) and the account owner is notified.", notify=("account_owner",))
    return None


def _domain_mql(f: Facts, rule: Rule) -> Decision | None:
    if f.account is not None:
        return None
    mqls = sorted((d for d in f.domain_leads if d.status == "mql" and d.mql_at), key=lambda d: d.mql_at)
    if not mqls:
        return None
    first = mqls[0]
    return Decision(OWNER, f"Another lead at {f.domain} is an MQL; both go to the owner of the earliest MQL "
                    f"(lead {first.lead_id}, MQL since {first.mql_at:%Y-%m-%d}).",
                    owner_id=first.owner_id, candidates=tuple(d.owner_id for d in mqls))


def _domain_working(f: Facts, rule: Rule) -> Decision | None:
    if f.account is not None:
        return None
    working = [d for d in f.domain_leads if d.status in ("accepted", "qualifying")]
    if not working:
        return None
    return Decision(OWNER, f"Another lead at {f.domain} is being worked ({working[0].status}); the new lead "
                    "goes to the same owner.", owner_id=working[0].owner_id,
                    candidates=tuple(d.owner_id for d in working))


def _professional_services(f: Facts, rule: Rule) -> Decision | None:
    if f.request != PROFESSIONAL_SERVICES:
        return None
    if f.account and f.account.owner_id:
        return Decision(OWNER, f"Professional services request at {f.account.name}: the account's SAL gets it; "
                        "SAL, SDR and CSM are notified.", owner_id=f.account.owner_id,
                        notify=("account_owner", "sdr", "csm"), candidates=(f.account.owner_id,))
    pool = (rule.param("pools") or {}).get(f.region)
    if not pool:
        return None
    return Decision(POOL, f"Professional services request with no matched account: BDR pool {pool} of "
                    f"{f.region.upper()}.", pool=pool)


def _trial(f: Facts, rule: Rule) -> Decision | None:
    if f.request != TRIAL:
        return None
    pools = rule.param("pools") or {}
    key = "pubsec" if f.pubsec and f.country == "US" else f.region
    pool = pools.get(key)
    if not pool:
        return None
    where = "US public sector" if key == "pubsec" else key.upper()
    return Decision(POOL, f"Trial from {where}: BDR round robin {pool}, whatever the segment.", pool=pool)


def _contact_request(f: Facts, rule: Rule) -> Decision | None:
    if f.request != CONTACT:
        return None
    if f.pubsec:
        pool = rule.param("pubsec_pool")
        why = "public sector"
    elif f.segment in ("large", "mid_market"):
        pool = (rule.param("bdr_pools") or {}).get(f.region)
        why = f"{f.segment.replace('_', '-')} in {f.region.upper()}"
    elif f.segment == "smb":
        pool = (rule.param("smb_pools") or {}).get(f.region)
        why = f"SMB in {f.region.upper()}"
    else:
        pool = rule.param("unknown_pool")
        why = "segment unknown"
    if not pool:
        return None
    return Decision(POOL, f"Contact request, {why}: pool {pool}.", pool=pool)


def _named_or_abm(f: Facts, rule: Rule) -> Decision | None:
    a = f.account
    if a is None:
        return None
    if a.is_named and a.paired_sdr_id:
        return Decision(OWNER, f"{a.name} is a named account: the SDR paired with its SAL gets the lead.",
                        owner_id=a.paired_sdr_id, candidates=(a.paired_sdr_id,))
    if a.abm_tier in (1, 2):
        pool = rule.param("abm_pool")
        return Decision(POOL, f"{a.name} is ABM tier {a.abm_tier}: the ABM SDR ({pool}).", pool=pool)
    return None


def _territory(f: Facts, rule: Rule) -> Decision | None:
    if f.territory_sdr_id:
        return Decision(OWNER, f"Territory {f.territory_name} ({f.region.upper()}, {f.segment}) belongs to its "
                        "SDR.", owner_id=f.territory_sdr_id, candidates=(f.territory_sdr_id,))
    return Decision(QUEUE, f"No territory covers {f.region.upper() or 'an unknown region'} / {f.segment}: "
                    "queue Unassigned, ops alerted.", queue=UNASSIGNED, notify=("ops",))


CHECKS: dict[str, Check] = {
    "account_bdr": _account_bdr,
    "customer_smb": _customer_smb,
    "open_opportunity": _open_opportunity,
    "domain_mql": _domain_mql,
    "domain_working": _domain_working,
    "professional_services": _professional_services,
    "trial": _trial,
    "contact_request": _contact_request,
    "named_or_abm": _named_or_abm,
    "territory": _territory,
}


def decide(facts: Facts, rules: Sequence[Rule]) -> Decision:
    for rule in sorted(rules, key=lambda r: r.position):
        if not rule.enabled:
            continue
        decision = CHECKS[rule.kind](facts, rule)
        if decision is not None:
            return Decision(**{**decision.__dict__, "rule": rule})
    return Decision(QUEUE, "No routing rule matched: queue Unassigned, ops alerted.", queue=UNASSIGNED,
                    notify=("ops",))


@dataclass(frozen=True)
class TerritoryFacts:
    id: int
    name: str
    region: str
    sub_region: str
    countries: tuple[str, ...]
    segment: str
    sdr_id: int


def pick_territory(territories: Sequence[TerritoryFacts], region: str, sub_region: str, country: str,
                   segment: str) -> TerritoryFacts | None:
    """The most specific territory that covers the lead: countries beat sub-regions beat
    the whole region, and a segment-specific one beats an any-segment one."""
    best: tuple[int, TerritoryFacts] | None = None
    for t in territories:
        if t.region != region or (t.segment and t.segment != segment):
            continue
        if t.countries and country not in t.countries:
            continue
        if t.sub_region and t.sub_region != sub_region:
            continue
        rank = (4 if t.countries else 2 if t.sub_region else 0) + (1 if t.segment else 0)
        if best is None or rank > best[0] or (rank == best[0] and t.id < best[1].id):
            best = (rank, t)
    return best[1] if best else None
