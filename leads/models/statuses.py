"""Lead and contact statuses: the status map (docs/rules.md §3), the reasons some moves need,
the causes of a move, and the history row every move leaves (leads/lifecycle.py writes it)."""

from __future__ import annotations

from django.conf import settings
from django.db import models

USER = settings.AUTH_USER_MODEL


class Status(models.TextChoices):
    RAW = "raw", "Raw"
    INQUIRY = "inquiry", "Inquiry"
    MQL = "mql", "MQL"
    ACCEPTED = "accepted", "Accepted"
    QUALIFYING = "qualifying", "Qualifying"
    QUALIFIED = "qualified", "Qualified"
    UNQUALIFIED = "unqualified", "Unqualified"
    RECYCLE = "recycle", "Recycle"
    UNRESPONSIVE = "unresponsive", "Unresponsive"
    BAD_DATA = "bad_data", "Bad Data"
    WEB_PORTAL_PURCHASE = "web_portal_purchase", "Web Portal Purchase"


S = Status
OPEN_STATUSES = frozenset({S.RAW, S.INQUIRY, S.MQL, S.ACCEPTED, S.QUALIFYING, S.RECYCLE, S.UNRESPONSIVE})
# docs/rules.md §3. `qualified` is reached only by converting (services.convert_lead), and
# `unqualified` → `raw` only by managers and ops; services.transition checks both.
TRANSITIONS: dict[str, frozenset[str]] = {
    S.RAW: frozenset({S.INQUIRY, S.MQL, S.ACCEPTED, S.RECYCLE}),
    S.INQUIRY: frozenset({S.MQL, S.ACCEPTED, S.RECYCLE}),
    S.MQL: frozenset({S.ACCEPTED, S.RECYCLE}),
    S.ACCEPTED: frozenset({S.QUALIFYING, S.RECYCLE, S.UNRESPONSIVE}),
    S.QUALIFYING: frozenset({S.QUALIFIED, S.RECYCLE}),
    S.RECYCLE: frozenset({S.MQL, S.ACCEPTED}),
    S.UNRESPONSIVE: frozenset({S.MQL, S.ACCEPTED}),
    S.BAD_DATA: frozenset({S.ACCEPTED}),
    S.UNQUALIFIED: frozenset({S.RAW}),
    S.QUALIFIED: frozenset(),
    S.WEB_PORTAL_PURCHASE: frozenset(),
}
# Any open status may be closed as unqualified, bad data or a self-serve purchase (the
# handbook's "Web Portal Purchase": bought online while a duplicate record exists).
for _open in OPEN_STATUSES:
    TRANSITIONS[_open] = TRANSITIONS[_open] | {S.UNQUALIFIED, S.BAD_DATA, S.WEB_PORTAL_PURCHASE}


class RecycleReason(models.TextChoices):
    EVALUATING = "evaluating", "Evaluating"
    NOT_READY = "not_ready", "Not ready"
    NO_RESPONSE = "no_response", "No response"
    OTHER = "other", "Other"


class UnqualifiedReason(models.TextChoices):
    UNSUBSCRIBE = "unsubscribe", "Unsubscribe"
    SPAM = "spam", "Spam"
    BAD_CONTACT_INFO = "bad_contact_info", "Bad contact info"
    NOT_A_FIT = "not_a_fit", "Not a fit"
    STUDENT = "student", "Student"
    COMPETITOR = "competitor", "Competitor"
    DUPLICATE = "duplicate", "Duplicate"
    OTHER = "other", "Other"


REQUIRED_REASONS: dict[str, type[models.TextChoices]] = {
    S.RECYCLE: RecycleReason,
    S.UNQUALIFIED: UnqualifiedReason,
}


def reason_label(status: str, code: str) -> str:
    """'not_ready' → 'Not ready' for the status that uses it; other codes as they are."""
    choices = REQUIRED_REASONS.get(status)
    if choices is not None and code in choices.values:
        return str(choices(code).label)
    return code


class Cause(models.TextChoices):
    SCORE = "score", "Score"
    SEQUENCE = "sequence", "Sequence"
    REPLY = "reply", "Reply"
    MANUAL = "manual", "Manual"
    JOB = "job", "Job"
    ROUTING = "routing", "Routing"
    IMPORT = "import", "Import"
    MERGE = "merge", "Merge"



class StatusChange(models.Model):
    """One row per status change of a lead or contact: from, to, why, by whom, when."""

    # No single-column indexes on the person: statuschange_lead and statuschange_contact lead
    # with it, and each index is one more write on every move.
    lead = models.ForeignKey("leads.Lead", null=True, blank=True, on_delete=models.CASCADE,
                             related_name="status_changes", db_index=False)
    contact = models.ForeignKey(
        "leads.Contact", null=True, blank=True, on_delete=models.CASCADE, related_name="status_changes",
        db_index=False
    )
    old = models.CharField(max_length=20, choices=Status.choices, blank=True)
    new = models.CharField(max_length=20, choices=Status.choices)
    reason = models.CharField(max_length=40, blank=True)
    cause = models.CharField(max_length=20, choices=Cause.choices)
    by = models.ForeignKey(USER, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    at = models.DateTimeField()

    class Meta:
        indexes = [
            models.Index(fields=["lead", "at"], name="statuschange_lead"),
            models.Index(fields=["contact", "at"], name="statuschange_contact"),
        ]

    def __str__(self) -> str:
        return f"{self.old or '∅'} → {self.new} ({self.cause})"

    @property
    def reason_label(self) -> str:
        return reason_label(self.new, self.reason)

