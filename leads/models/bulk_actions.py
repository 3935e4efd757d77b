"""A bulk action on the records chosen on a list (leads, contacts, accounts or
opportunities): its audit line (who, what, on which records, when) and, while it runs,
its progress; each row's outcome in words."""

from __future__ import annotations

from django.conf import settings
from django.db import models

USER = settings.AUTH_USER_MODEL


class BulkAction(models.Model):
    class Record(models.TextChoices):
        LEAD = "lead", "lead"
        CONTACT = "contact", "contact"
        ACCOUNT = "account", "account"
        OPPORTUNITY = "opportunity", "opportunity"

    class Kind(models.TextChoices):
        ASSIGN = "assign", "Assign owner"
        STATUS = "status", "Change status"
        ENROL = "enrol", "Enrol in a sequence"
        TARGET = "target", "Mark targeted"
        UNTARGET = "untarget", "Unmark targeted"

    class State(models.TextChoices):
        QUEUED = "queued", "Queued"
        RUNNING = "running", "Running"
        FINISHED = "finished", "Finished"

    record = models.CharField(max_length=20, choices=Record.choices, default=Record.LEAD)
    kind = models.CharField(max_length=20, choices=Kind.choices)
    # What the action does: {"owner": id} | {"status": …, "reason": …} | {"sequence": id} | {}
    params = models.JSONField(default=dict)
    summary = models.CharField(max_length=300)  # the action in words, for the audit
    record_ids = models.JSONField(default=list)
    by = models.ForeignKey(USER, on_delete=models.PROTECT, related_name="bulk_actions", db_index=False)
    state = models.CharField(max_length=20, choices=State.choices, default=State.QUEUED)
    total = models.PositiveIntegerField(default=0)
    # [[record id, "done" | "refused", message], …] in record_ids' order: how far it got.
    results = models.JSONField(default=list)
    done = models.PositiveIntegerField(default=0)
    refused = models.PositiveIntegerField(default=0)
    created_at = models.DateTimeField(auto_now_add=True)
    finished_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        indexes = [models.Index(fields=["by", "-created_at"], name="bulkaction_by")]

    def __str__(self) -> str:
        return f"{self.summary} ({self.total} {self.get_record_display()}s)"

    @property
    def progress(self) -> int:
        return len(self.results)
