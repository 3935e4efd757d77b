"""Replay a draft rule set over the leads of a past date range: what would each rule and
each owner have got, against what actually happened. Read-only: the engine is pure, pool
turns are not taken (the answer names the pool), and nothing is written."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from django.db.models import Exists, OuterRef, Prefetch, QuerySet

from leads.models import Lead

from . import engine, facts, rulesets
from .models import RoutingDecision, RuleSet

MAX_LEADS = 20_000


@dataclass
class ReplayReport:
    ruleset_version: int
    leads: int = 0
    changed: int = 0
    truncated: bool = False
    would_by_rule: Counter[str] = field(default_factory=Counter)
    did_by_rule: Counter[str] = field(default_factory=Counter)
    would_by_destination: Counter[str] = field(default_factory=Counter)
    did_by_destination: Counter[str] = field(default_factory=Counter)

    def as_dict(self) -> dict[str, Any]:
        return {
            "ruleset_version": self.ruleset_version, "leads": self.leads, "changed": self.changed,
            "truncated": self.truncated,
            "by_rule": _side_by_side(self.would_by_rule, self.did_by_rule),
            "by_destination": _side_by_side(self.would_by_destination, self.did_by_destination),
        }


def _side_by_side(would: Counter[str], did: Counter[str]) -> list[dict[str, Any]]:
    keys = sorted(would.keys() | did.keys(), key=lambda k: (-(would[k] + did[k]), k))
    return [{"key": k, "would": would[k], "did": did[k]} for k in keys]


def destination(action: str, owner_id: int | None, pool: str, queue: str) -> str:
    """One label for where a lead goes, comparable between a decision and a replay."""
    if action == "pool":
        return f"pool:{pool}"
    if action == "queue":
        return f"queue:{queue}"
    if action in ("recycle",):
        return "recycle"
    return f"user:{owner_id}"


def replay(ruleset: RuleSet, start: datetime, end: datetime) -> ReplayReport:
    rules = rulesets.rules_of(ruleset)
    report = ReplayReport(ruleset_version=ruleset.version)
    territories = facts.territory_facts()
    first_decisions = Prefetch("routing_decisions", to_attr="log",
                               queryset=RoutingDecision.objects.select_related("pool", "queue").order_by("at", "id"))
    open_opportunity = Exists(facts.open_opportunities().filter(account=OuterRef("account_id")))
    leads = (Lead.objects.filter(created_at__gte=start, created_at__lt=end).select_related("account__owner")
             .annotate(open_opportunity=open_opportunity).prefetch_related(first_decisions).order_by("pk"))
    for lead, colleagues in _with_colleagues(leads[: MAX_LEADS + 1]):
        if report.leads == MAX_LEADS:
            report.truncated = True
            break
        report.leads += 1
        actual = lead.log[0] if lead.log else None
        request = (actual.inputs.get("request") or "") if actual else ""
        lead_facts = facts.load_facts(lead, request, territories, lead.open_opportunity, colleagues)
        decision = engine.decide(lead_facts, rules)
        would_rule = decision.rule.kind if decision.rule else "none"
        would = destination(decision.action, decision.owner_id, decision.pool, decision.queue)
        report.would_by_rule[would_rule] += 1
        report.would_by_destination[would] += 1
        if actual is None:
            did_rule, did = "not routed", "not routed"
        else:
            did_rule = actual.rule_kind or "none"
            did = destination(actual.action, actual.owner_id, actual.pool.name if actual.pool else "",
                              actual.queue.name if actual.queue else "")
            # A pool turn is recorded with its member; compare at the pool level.
            if actual.pool is not None:
                did = f"pool:{actual.pool.name}"
        report.did_by_rule[did_rule] += 1
        report.did_by_destination[did] += 1
        if (would_rule, would) != (did_rule, did):
            report.changed += 1
    return report


def _with_colleagues(leads: QuerySet[Lead], chunk: int = 500) -> Iterator[tuple[Lead, list[engine.DomainLead]]]:
    """Each lead with the owned leads at its email domain, read once per chunk of leads."""
    batch: list[Lead] = []
    for lead in leads.iterator(chunk_size=chunk):
        batch.append(lead)
        if len(batch) == chunk:
            yield from _pair(batch)
            batch = []
    yield from _pair(batch)


def _pair(batch: list[Lead]) -> Iterator[tuple[Lead, list[engine.DomainLead]]]:
    colleagues = facts.domain_colleagues(batch)
    for lead in batch:
        yield lead, colleagues.get(lead.email_domain, [])
