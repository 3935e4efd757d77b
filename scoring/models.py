"""Scoring rules live in the database (ops edit them without a deploy); every point a
person gets is a ledger row, so any score can be explained and recomputed."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q

from leads.models import ActivityType

from .rules import Condition, Counting, Rule


class ScoringRule(models.Model):
    COUNTING_CHOICES = [
        (Counting.EVERY, "Every occurrence"),
        (Counting.DAILY, "Once per type per calendar day"),
        (Counting.ONCE, "Once per type, ever"),
        (Counting.WINDOW_7_DAYS, "2 or more within 7 days, once per 7-day window"),
    ]
    CONDITION_CHOICES = [
        (Condition.SENIOR_TITLE, "Title has VP, Vice President, Manager, Director, Senior or Head"),
        (Condition.JUNIOR_TITLE, "Title blank, only digits, or has Developer or Engineer"),
        (Condition.COMPANY_EMAIL, "Email at a company domain"),
        (Condition.FREE_EMAIL, "Email at a free-mail domain"),
    ]

    key = models.SlugField(max_length=60, unique=True)
    label = models.CharField(max_length=200)
    points = models.IntegerField()
    activity_type = models.CharField(max_length=40, choices=ActivityType.choices, blank=True)
    counting = models.CharField(max_length=10, choices=COUNTING_CHOICES, default=Counting.EVERY)
    condition = models.CharField(max_length=20, choices=CONDITION_CHOICES, blank=True)
    version = models.PositiveIntegerField(default=1)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["key"]
        constraints = [
            models.CheckConstraint(
                condition=(Q(activity_type="") & ~Q(condition="")) | (~Q(activity_type="") & Q(condition="")),
                name="scoringrule_behaviour_xor_profile",
            ),
            models.UniqueConstraint(fields=["activity_type"], condition=~Q(activity_type=""),
                                    name="scoringrule_one_per_activity_type"),
        ]

    def __str__(self) -> str:
        return f"{self.label} ({self.points:+d})"

    def as_rule(self) -> Rule:
        return Rule(key=self.key, label=self.label, points=self.points, version=self.version,
                    activity_type=self.activity_type, counting=self.counting, condition=self.condition)


class ScoringRuleChange(models.Model):
    """Audit: who changed a rule, when, from what to what; and how far the background
    re-score of the people it touches has got (a lost task is picked up from there by the
    `rescores` job)."""

    rule = models.ForeignKey(ScoringRule, on_delete=models.CASCADE, related_name="changes")
    version = models.PositiveIntegerField()
    old = models.JSONField()
    new = models.JSONField()
    by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL,
                           related_name="+")
    at = models.DateTimeField(auto_now_add=True)
    # The re-score: leads are done in id order up to `rescored_through`; `rescored_at`
    # says it finished; `progressed_at` when a batch last committed.
    rescored_through = models.BigIntegerField(default=0)
    progressed_at = models.DateTimeField(null=True, blank=True)
    rescored_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        indexes = [models.Index(fields=["progressed_at", "id"], name="rulechange_rescoring",
                                condition=models.Q(rescored_at__isnull=True))]

    def __str__(self) -> str:
        return f"{self.rule.key} v{self.version}"


class ScoreEntry(models.Model):
    """One point change of one lead or contact: the score is the sum of these rows."""

    # No single-column indexes on the person: scoreentry_lead and scoreentry_contact lead with
    # it, and each index is one more write on every ledger row.
    lead = models.ForeignKey("leads.Lead", null=True, blank=True, on_delete=models.CASCADE,
                             related_name="score_entries", db_index=False)
    contact = models.ForeignKey("leads.Contact", null=True, blank=True, on_delete=models.CASCADE,
                                related_name="score_entries", db_index=False)
    rule_key = models.CharField(max_length=60)
    rule_version = models.PositiveIntegerField()
    activity = models.ForeignKey("leads.Activity", null=True, blank=True, on_delete=models.SET_NULL,
                                 related_name="+")
    points = models.IntegerField()
    reason = models.CharField(max_length=255)
    at = models.DateTimeField()

    class Meta:
        constraints = [
            models.CheckConstraint(
                condition=(Q(lead__isnull=False) & Q(contact__isnull=True))
                | (Q(lead__isnull=True) & Q(contact__isnull=False)),
                name="scoreentry_one_person",
            ),
        ]
        indexes = [
            models.Index(fields=["lead", "at"], name="scoreentry_lead"),
            models.Index(fields=["contact", "at"], name="scoreentry_contact"),
        ]

    def __str__(self) -> str:
        return f"{self.rule_key} {self.points:+d}"
