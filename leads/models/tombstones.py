"""Tombstones: what is left of a lead deleted for good or merged away."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q

USER = settings.AUTH_USER_MODEL


class Tombstone(models.Model):
    """What is left of a lead deleted for good (spam deletion, docs/rules.md §3) or merged away
    (docs/rules.md §9). A spam tombstone keeps enough to recognise the lead again, never its personal
    data in clear text. A merge tombstone keeps the whole record in `snapshot`, since ops can
    undo a merge; the person lives on in the survivor anyway."""

    class Kind(models.TextChoices):
        SPAM = "spam", "Spam deletion"
        MERGE = "merge", "Merged away"

    kind = models.CharField(max_length=10, choices=Kind.choices)
    original_id = models.PositiveBigIntegerField()
    email_hash = models.CharField(max_length=64, db_index=True, help_text="SHA-256 of the lower-cased email")
    email_domain = models.CharField(max_length=253, blank=True)
    marked_by = models.ForeignKey(USER, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    marked_at = models.DateTimeField(null=True, blank=True)
    deleted_at = models.DateTimeField()
    # For merges only: the record as it was, so ops can undo (issue 5).
    merged_into_id = models.PositiveBigIntegerField(null=True, blank=True)
    snapshot = models.JSONField(default=dict, blank=True)
    undone_at = models.DateTimeField(null=True, blank=True)
    undone_by = models.ForeignKey(USER, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")

    class Meta:
        indexes = [
            models.Index(fields=["kind", "deleted_at"], name="tombstone_kind"),
            models.Index(fields=["merged_into_id", "deleted_at"], name="tombstone_merged_into",
                         condition=Q(kind="merge")),
        ]

    def __str__(self) -> str:
        return f"{self.kind} tombstone of lead {self.original_id}"


class Erasure(models.Model):
    """A person erased on their request (docs/rules.md §11.3): what is left is who asked and
    when, who erased, how many records were anonymised, and the email's hash, which keeps
    the person from coming back through ingest or an import until ops lift the block."""

    email_hash = models.CharField(max_length=64, db_index=True, help_text="SHA-256 of the lower-cased email")
    requested_by = models.CharField(max_length=200, help_text="who asked: the person, or who on their behalf")
    requested_on = models.DateField()
    erased_by = models.ForeignKey(USER, null=True, on_delete=models.SET_NULL, related_name="+")
    erased_at = models.DateTimeField()
    leads = models.PositiveIntegerField(default=0)
    contacts = models.PositiveIntegerField(default=0)
    lifted_by = models.ForeignKey(USER, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    lifted_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        indexes = [models.Index(fields=["-erased_at", "-id"], name="erasure_newest")]

    def __str__(self) -> str:
        return f"erasure {self.pk} of {self.email_hash[:12]}…"
