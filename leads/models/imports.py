"""An import of leads or contacts from a CSV or XLSX file (leads/imports.py): who ran it and
when, the file (its name and SHA-256), how its columns were read, the campaign it tags, how
far its run has got and what it did; each row of the file, checked: what to ingest, or what
is wrong with it; and the people on each campaign's list."""

from __future__ import annotations

from django.conf import settings
from django.db import models


class Import(models.Model):
    class Kind(models.TextChoices):
        LEAD = "lead", "Leads"
        CONTACT = "contact", "Contacts"

    class State(models.TextChoices):
        CHECKED = "checked", "Checked (dry run)"
        QUEUED = "queued", "Queued"
        RUNNING = "running", "Running"
        FINISHED = "finished", "Finished"

    kind = models.CharField(max_length=10, choices=Kind.choices, default=Kind.LEAD)
    # The list's campaign (a trade show, a bought list): each person of the run is put on it.
    campaign = models.CharField(max_length=100, blank=True)
    file_name = models.CharField(max_length=255)
    sha256 = models.CharField(max_length=64)
    size = models.PositiveIntegerField()
    sheet = models.CharField(max_length=100, blank=True)
    headers = models.JSONField(default=list)  # the file's header row, for the error file
    mapping = models.JSONField(default=dict)  # the file's header → the lead field it fills
    state = models.CharField(max_length=20, choices=State.choices, default=State.CHECKED)
    rows = models.PositiveIntegerField(default=0)
    good = models.PositiveIntegerField(default=0)  # rows that passed the checks: what a run works through
    rows_done = models.PositiveIntegerField(default=0)  # the run's progress
    # Checked, the counts say what a run would do; run, what it did.
    created = models.PositiveIntegerField(default=0)
    updated = models.PositiveIntegerField(default=0)
    unchanged = models.PositiveIntegerField(default=0)
    rejected = models.PositiveIntegerField(default=0)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+",
                                   db_index=False)
    created_at = models.DateTimeField(auto_now_add=True)
    finished_at = models.DateTimeField(null=True, blank=True)
    # When the nightly history_prune deleted its rows, IMPORT_ROWS_KEPT_DAYS after it finished:
    # the counts, the mapping and the campaign's list stay; the problems and the error file go.
    rows_cleared_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        indexes = [models.Index(fields=["created_by", "-id"], name="import_by")]

    def __str__(self) -> str:
        return f"{self.file_name} ({self.get_state_display()})"

    @property
    def percent(self) -> int:
        """How far the run has got, of the rows that passed the checks."""
        return round(100 * self.rows_done / self.good) if self.good else 100


class ImportRow(models.Model):
    """A row of an import's file as it was (`values`), and, checked, the fields to ingest
    (`data`, the owner by id) or its problems by column."""

    class Result(models.TextChoices):
        PENDING = "", "Not run"
        CREATED = "created", "Created"
        UPDATED = "updated", "Updated"
        UNCHANGED = "unchanged", "Unchanged"
        REJECTED = "rejected", "Rejected"

    batch = models.ForeignKey(Import, on_delete=models.CASCADE, related_name="lines", db_index=False)
    line = models.PositiveIntegerField()
    data = models.JSONField(null=True)
    values = models.JSONField(default=list)
    errors = models.JSONField(default=dict)
    result = models.CharField(max_length=20, choices=Result.choices, blank=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["batch", "line"], name="importrow_line")]

    def __str__(self) -> str:
        return f"line {self.line}: {self.get_result_display()}"


class ImportMapping(models.Model):
    """A column name a user has mapped by hand (compared lower-cased, "_" and "-" as
    spaces), and the lead field it filled, or "" for a column left out: their next files
    with that column are read the same way."""

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+", db_index=False)
    header = models.CharField(max_length=255)
    field = models.CharField(max_length=40, blank=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["user", "header"], name="importmapping_header")]

    def __str__(self) -> str:
        return f"{self.header} → {self.field or '(left out)'}"


class CampaignMember(models.Model):
    """A person on a campaign's list: put there by an import tagged with the campaign, once
    however often the list is imported (docs/rules.md §5.3)."""

    campaign = models.CharField(max_length=100)
    lead = models.ForeignKey("leads.Lead", null=True, blank=True, on_delete=models.CASCADE, related_name="+",
                             db_index=False)
    contact = models.ForeignKey("leads.Contact", null=True, blank=True, on_delete=models.CASCADE, related_name="+",
                                db_index=False)
    source_import = models.ForeignKey(Import, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    added_at = models.DateTimeField()

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["campaign", "lead"], name="campaignmember_lead",
                                    condition=models.Q(lead__isnull=False)),
            models.UniqueConstraint(fields=["campaign", "contact"], name="campaignmember_contact",
                                    condition=models.Q(contact__isnull=False)),
            models.CheckConstraint(name="campaignmember_one_person",
                                   condition=models.Q(lead__isnull=True, contact__isnull=False)
                                   | models.Q(lead__isnull=False, contact__isnull=True)),
        ]
        # A person's campaigns (their page); the lead list's campaign filter uses the unique ones.
        indexes = [models.Index(fields=["lead", "campaign"], name="campaignmember_of_lead"),
                   models.Index(fields=["contact", "campaign"], name="campaignmember_of_contact")]

    def __str__(self) -> str:
        return f"{self.lead_id or self.contact_id} on {self.campaign}"
