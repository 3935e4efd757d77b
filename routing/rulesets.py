"""Routing rule sets (docs/rules.md §2): versioned, edited as drafts, activated one at a time (the
active one is retired), and read by every routing decision from the per-process
configuration cache."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from django.db import transaction
from django.db.models import Max
from django.utils import timezone

from sdrcrm import config
from sdrcrm.errors import Refused
from sdrcrm.models import User

from . import engine
from .models import Pool, RoutingRule, RuleSet


def active_ruleset() -> tuple[RuleSet | None, Sequence[engine.Rule]]:
    """The active rule set (only its id and version are loaded) and its rules, from the
    per-process configuration cache."""
    active = config.get("active_ruleset")
    if active is None:
        return None, ()
    (pk, version), rules = active
    return RuleSet(pk=pk, version=version, state=RuleSet.State.ACTIVE), rules


def read_active_ruleset() -> tuple[tuple[int, int], tuple[engine.Rule, ...]] | None:
    ruleset = RuleSet.objects.filter(state=RuleSet.State.ACTIVE).first()
    return None if ruleset is None else ((ruleset.pk, ruleset.version), tuple(rules_of(ruleset)))


def rules_of(ruleset: RuleSet) -> list[engine.Rule]:
    return [engine.Rule(position=r.position, kind=r.kind, label=r.label, params=r.params, enabled=r.enabled)
            for r in RoutingRule.objects.filter(ruleset=ruleset)]


@transaction.atomic
def create_draft(by: User | None) -> RuleSet:
    """A new draft rule set, a copy of the active one (or of the handbook defaults)."""
    version = (RuleSet.objects.aggregate(v=Max("version"))["v"] or 0) + 1
    draft = RuleSet.objects.create(version=version, state=RuleSet.State.DRAFT, created_by=by)
    active = RuleSet.objects.filter(state=RuleSet.State.ACTIVE).first()
    source = RoutingRule.objects.filter(ruleset=active) if active else []
    RoutingRule.objects.bulk_create(
        RoutingRule(ruleset=draft, position=r.position, kind=r.kind, label=r.label, enabled=r.enabled,
                    params=r.params) for r in source
    )
    return draft


@transaction.atomic
def activate(ruleset: RuleSet) -> RuleSet:
    ruleset = RuleSet.objects.select_for_update().get(pk=ruleset.pk)
    if ruleset.state != RuleSet.State.DRAFT:
        raise Refused(f"Rule set v{ruleset.version} is {ruleset.state}; only a draft can be activated.")
    if not RoutingRule.objects.filter(ruleset=ruleset, enabled=True).exists():
        raise Refused("A rule set needs at least one enabled rule.")
    RuleSet.objects.filter(state=RuleSet.State.ACTIVE).update(state=RuleSet.State.RETIRED)
    ruleset.state, ruleset.activated_at = RuleSet.State.ACTIVE, timezone.now()
    ruleset.save(update_fields=["state", "activated_at"])
    return ruleset


def update_draft(ruleset: RuleSet, data: dict[str, Any]) -> RuleSet:
    """Edit a draft's note and (when given) replace its rules; active and retired sets
    are history and never change. Two rules may not share a position, and a pool a rule
    names must exist."""
    if data.get("rules") is not None:
        check_rules(data["rules"])
    with transaction.atomic():
        ruleset = RuleSet.objects.select_for_update().get(pk=ruleset.pk)
        if ruleset.state != RuleSet.State.DRAFT:
            raise Refused(f"Rule set v{ruleset.version} is {ruleset.state}; only a draft can be edited.")
        rules = data.pop("rules", None)
        for field, value in data.items():
            setattr(ruleset, field, value)
        ruleset.save()
        if rules is not None:
            RoutingRule.objects.filter(ruleset=ruleset).delete()
            RoutingRule.objects.bulk_create(RoutingRule(ruleset=ruleset, **rule) for rule in rules)
    return ruleset


def check_rules(rules: Sequence[dict[str, Any]]) -> None:
    positions = [rule["position"] for rule in rules]
    if len(positions) != len(set(positions)):
        raise Refused("Two rules share a position.", field="rules")
    pools = set(Pool.objects.values_list("name", flat=True))
    for rule in rules:
        for name in pool_names(rule["kind"], rule.get("params") or {}):
            if name not in pools:
                raise Refused(f"Rule {rule['position']} names the pool '{name}', which does not exist.",
                              field="rules")


def pool_names(kind: str, params: dict[str, Any]) -> list[str]:
    """The pool names a rule's params give where the engine reads a pool (its defaults'
    keys: one name, or one per region or segment)."""
    names = []
    for key in engine.DEFAULT_PARAMS.get(kind, {}):
        value = params.get(key)
        values = value.values() if isinstance(value, dict) else [value] if value is not None else []
        names += [str(v) for v in values]
    return names
