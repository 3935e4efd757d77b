"""Sequences (the cadences SDRs run), enrolments and the events the sequencing tool sends
(docs/rules.md §3). The rules live in leads/sequences.py."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.db import models
from django.db.models import Q

from .people import Contact, Lead

USER = settings.AUTH_USER_MODEL


class EnrollmentQuerySet(models.QuerySet["Enrollment"]):
    def visible_to(self, user: Any) -> EnrollmentQuerySet:
        """Enrolments of the leads and contacts the user may read (integrations also read
        the ones they made)."""
        if not user.is_authenticated:
            return self.none()
        if user.is_ops:
            return self.all()
        scope = Q(lead__in=Lead.objects.visible_to(user)) | Q(contact__in=Contact.objects.visible_to(user))
        if user.role == "integration":
            scope |= Q(enrolled_by=user)
        return self.filter(scope)



class Touch(models.TextChoices):
    HIGH = "high", "High touch"
    LOW = "low", "Low touch"


class StepType(models.TextChoices):
    AUTO_EMAIL = "auto_email", "Automatic email"
    MANUAL_EMAIL = "manual_email", "Manual email"
    CALL = "call", "Call"
    LINKEDIN = "linkedin", "LinkedIn"
    TASK = "task", "Task"


class Sequence(models.Model):
    name = models.CharField(max_length=200, unique=True)
    touch = models.CharField(max_length=10, choices=Touch.choices)
    description = models.TextField(blank=True)
    is_active = models.BooleanField(default=True)
    created_by = models.ForeignKey(USER, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)

    def __str__(self) -> str:
        return self.name


class SequenceStep(models.Model):
    sequence = models.ForeignKey(Sequence, on_delete=models.CASCADE, related_name="steps", db_index=False)
    position = models.PositiveSmallIntegerField(help_text="1 for the first step")
    day_offset = models.PositiveSmallIntegerField(help_text="Days after enrolment")
    type = models.CharField(max_length=20, choices=StepType.choices)

    class Meta:
        ordering = ["sequence", "position"]
        constraints = [
            models.UniqueConstraint(fields=["sequence", "position"], name="sequencestep_position"),
            models.CheckConstraint(condition=Q(position__gte=1), name="sequencestep_position_positive"),
        ]

    def __str__(self) -> str:
        return f"{self.sequence} #{self.position} (day {self.day_offset}, {self.type})"


class Enrollment(models.Model):
    """One lead or contact in one sequence: active, then finished with a reason."""

    class State(models.TextChoices):
        ACTIVE = "active", "Active"
        FINISHED = "finished", "Finished"

    class FinishReason(models.TextChoices):
        COMPLETED = "completed", "Completed without reply"
        REPLIED = "replied", "Replied"
        BOUNCED = "bounced", "Bounced"
        INACTIVE = "inactive", "Inactive"
        MANUAL = "manual", "Finished by hand"
        COMMUNITY_PROGRAM = "community_program", "Community program"
        CONVERTED = "converted", "Converted"

    sequence = models.ForeignKey(Sequence, on_delete=models.PROTECT, related_name="enrollments", db_index=False)
    lead = models.ForeignKey("leads.Lead", null=True, blank=True, on_delete=models.CASCADE,
                             related_name="enrollments", db_index=False)
    contact = models.ForeignKey(
        "leads.Contact", null=True, blank=True, on_delete=models.CASCADE, related_name="enrollments", db_index=False
    )
    state = models.CharField(max_length=10, choices=State.choices, default=State.ACTIVE)
    # The highest step completed so far (0: none yet).
    current_step = models.PositiveSmallIntegerField(default=0)
    finish_reason = models.CharField(max_length=20, choices=FinishReason.choices, blank=True)
    enrolled_by = models.ForeignKey(USER, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    enrolled_at = models.DateTimeField()
    replied_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)
    # Set by the `unresponsive` job once it has handled a finished-without-reply
    # enrolment, so the next hourly run skips it (and a re-run is a no-op).
    followed_up_at = models.DateTimeField(null=True, blank=True)

    objects = EnrollmentQuerySet.as_manager()

    class Meta:
        constraints = [
            models.CheckConstraint(
                condition=(Q(lead__isnull=False) & Q(contact__isnull=True))
                | (Q(lead__isnull=True) & Q(contact__isnull=False)),
                name="enrollment_one_person",
            ),
            # One active sequence per person (docs/rules.md §3 refuses a second one).
            models.UniqueConstraint(fields=["lead"], condition=Q(state="active"), name="enrollment_one_active_lead"),
            models.UniqueConstraint(
                fields=["contact"], condition=Q(state="active"), name="enrollment_one_active_contact"
            ),
        ]
        indexes = [
            models.Index(fields=["lead", "enrolled_at"], name="enrollment_lead"),
            models.Index(fields=["contact", "enrolled_at"], name="enrollment_contact"),
            models.Index(fields=["sequence", "state", "id"], name="enrollment_sequence"),
            # The hourly `unresponsive` job: finished without reply, not yet followed up.
            models.Index(
                fields=["finished_at", "id"],
                name="enrollment_awaiting_followup",
                condition=Q(state="finished", finish_reason="completed", followed_up_at__isnull=True),
            ),
        ]

    def __str__(self) -> str:
        return f"{self.person} in {self.sequence} ({self.state})"

    @property
    def person(self):  # type: ignore[no-untyped-def]
        return self.lead if self.lead_id else self.contact


class SequenceEvent(models.Model):
    """What happened in a sequence, stored as received and applied later by a worker
    (leads.tasks.apply_sequence_event); `applied_at` makes applying it twice a no-op."""

    class Kind(models.TextChoices):
        STEP_COMPLETED = "step_completed", "Step completed"
        REPLIED = "replied", "Replied"
        FINISHED = "finished", "Finished"
        BOUNCED = "bounced", "Bounced"

    enrollment = models.ForeignKey(Enrollment, on_delete=models.CASCADE, related_name="events", db_index=False)
    kind = models.CharField(max_length=20, choices=Kind.choices)
    step = models.PositiveSmallIntegerField(null=True, blank=True, help_text="Step position, for step_completed")
    occurred_at = models.DateTimeField()
    # The sequencing tool's own id for the event: a resend with the same id is the same event.
    external_id = models.CharField(max_length=100, blank=True)
    created_by = models.ForeignKey(USER, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    received_at = models.DateTimeField(auto_now_add=True)
    applied_at = models.DateTimeField(null=True, blank=True)
    # When the `sequence_events` job last sent it again (it waits as long again before
    # the next resend, also when its run is resumed after a killed worker).
    requeued_at = models.DateTimeField(null=True, blank=True)
    # What applying it did, in words ("Lead accepted", "already applied", …).
    result = models.CharField(max_length=255, blank=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["enrollment", "external_id"], condition=~Q(external_id=""), name="sequenceevent_external_id"
            ),
        ]
        indexes = [
            models.Index(fields=["enrollment", "received_at"], name="sequenceevent_enrollment"),
            models.Index(fields=["received_at", "id"], name="sequenceevent_pending",
                         condition=Q(applied_at__isnull=True)),
        ]

    def __str__(self) -> str:
        return f"{self.kind} on {self.enrollment_id}"

