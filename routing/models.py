"""Territories, round-robin pools, versioned routing rule sets and the decision log."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q

from sdrcrm.models import Region, Segment

from . import engine

USER = settings.AUTH_USER_MODEL


class Territory(models.Model):
    """(region, sub-region or countries, segment) → the SDR (and SAL) who own it. Blank
    means any; the most specific territory wins."""

    name = models.CharField(max_length=100, unique=True)
    region = models.CharField(max_length=10, choices=Region.choices)
    sub_region = models.CharField(max_length=20, blank=True)
    countries = models.CharField(max_length=500, blank=True, help_text="ISO codes, comma-separated")
    segment = models.CharField(max_length=20, choices=Segment.choices, blank=True)
    sdr = models.ForeignKey(USER, on_delete=models.PROTECT, related_name="territories")
    sal = models.ForeignKey(USER, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")

    def __str__(self) -> str:
        return self.name

    def country_list(self) -> list[str]:
        return [c.strip().upper() for c in self.countries.split(",") if c.strip()]


class Pool(models.Model):
    """Round-robin pool. Members take turns by smooth weighted round robin; unavailable
    members are skipped and gather no credit while away."""

    name = models.CharField(max_length=100, unique=True)
    description = models.TextField(blank=True)

    def __str__(self) -> str:
        return self.name


class PoolMember(models.Model):
    pool = models.ForeignKey(Pool, on_delete=models.CASCADE, related_name="members", db_index=False)
    user = models.ForeignKey(USER, on_delete=models.CASCADE, related_name="pool_memberships")
    position = models.PositiveIntegerField(default=0)
    weight = models.PositiveIntegerField(default=1)
    # Smooth weighted round robin state (changed only under the members' row locks).
    credit = models.IntegerField(default=0)
    assigned = models.PositiveIntegerField(default=0)

    class Meta:
        ordering = ["position", "id"]
        constraints = [
            models.UniqueConstraint(fields=["pool", "user"], name="poolmember_once"),
            models.CheckConstraint(condition=Q(weight__gte=1), name="poolmember_weight_positive"),
        ]

    def __str__(self) -> str:
        return f"{self.user} in {self.pool}"


class RuleSet(models.Model):
    """A version of the routing rules. Ops edit a draft and activate it; exactly one is
    active; every decision records the version it used."""

    class State(models.TextChoices):
        DRAFT = "draft", "Draft"
        ACTIVE = "active", "Active"
        RETIRED = "retired", "Retired"

    version = models.PositiveIntegerField(unique=True)
    state = models.CharField(max_length=10, choices=State.choices, default=State.DRAFT)
    note = models.CharField(max_length=200, blank=True)
    created_by = models.ForeignKey(USER, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)
    activated_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["state"], condition=Q(state="active"), name="ruleset_one_active"),
        ]

    def __str__(self) -> str:
        return f"v{self.version} ({self.state})"


class RoutingRule(models.Model):
    class Kind(models.TextChoices):
        ACCOUNT_BDR = "account_bdr", "Account actively worked → its BDR"
        CUSTOMER_SMB = "customer_smb", "SMB lead at a customer → contact of the account"
        OPEN_OPPORTUNITY = "open_opportunity", "Account with an open opportunity → recycle"
        DOMAIN_MQL = "domain_mql", "Another MQL at the domain → earliest MQL's owner"
        DOMAIN_WORKING = "domain_working", "Another lead at the domain being worked → its owner"
        PROFESSIONAL_SERVICES = "professional_services", "Professional services request → account SAL"
        TRIAL = "trial", "Trial → BDR round robin by region"
        CONTACT_REQUEST = "contact_request", "Contact request → pool by segment"
        NAMED_OR_ABM = "named_or_abm", "Named account → paired SDR; ABM → ABM SDR"
        TERRITORY = "territory", "Territory SDR, else Unassigned"

    ruleset = models.ForeignKey(RuleSet, on_delete=models.CASCADE, related_name="rules", db_index=False)
    position = models.PositiveIntegerField()
    kind = models.CharField(max_length=30, choices=Kind.choices)
    label = models.CharField(max_length=200)
    enabled = models.BooleanField(default=True)
    # Pool and queue names the rule uses, so ops can re-point them in a draft.
    params = models.JSONField(default=dict, blank=True)

    class Meta:
        ordering = ["ruleset", "position"]
        constraints = [models.UniqueConstraint(fields=["ruleset", "position"], name="routingrule_position")]

    def __str__(self) -> str:
        return f"{self.position}. {self.label}"


class RoutingDecision(models.Model):
    """Why a lead went where it went, in words, with the inputs the rules saw."""

    class Action(models.TextChoices):
        OWNER = engine.OWNER, "Owner"
        POOL = engine.POOL, "Pool (round robin)"
        QUEUE = engine.QUEUE, "Queue"
        CONVERT = engine.CONVERT, "Convert"
        RECYCLE = engine.RECYCLE, "Recycle"

    lead = models.ForeignKey("leads.Lead", on_delete=models.CASCADE, related_name="routing_decisions",
                             db_index=False)  # decision_lead leads with it
    ruleset = models.ForeignKey(RuleSet, null=True, on_delete=models.SET_NULL, related_name="+")
    rule_kind = models.CharField(max_length=30, blank=True)
    rule_position = models.PositiveIntegerField(null=True)
    action = models.CharField(max_length=20, choices=Action.choices)
    inputs = models.JSONField(default=dict)
    candidates = models.JSONField(default=list)
    owner = models.ForeignKey(USER, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    pool = models.ForeignKey(Pool, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    queue = models.ForeignKey("leads.Queue", null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    reason = models.TextField()
    at = models.DateTimeField()

    class Meta:
        indexes = [
            models.Index(fields=["lead", "-at"], name="decision_lead"),
            models.Index(fields=["at", "id"], name="decision_at"),
        ]

    def __str__(self) -> str:
        return f"{self.lead_id}: {self.action}"
