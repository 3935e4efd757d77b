"""A task: something a person must do by a time (call back, send the deck), on their
Today page until it is done. Added by hand, by the stale_opportunities reminders, or by a
sequence: its next step that a person does (a call, a manual email, a LinkedIn message,
a to-do) is a task of its enrolment, for the person's owner (leads/sequences.py)."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q

from .people import Contact, Lead
from .sequences import Enrollment

USER = settings.AUTH_USER_MODEL


class TaskQuerySet(models.QuerySet["Task"]):
    def of_live_records(self) -> TaskQuerySet:
        """Leaving out the tasks of a deleted lead, contact or opportunity (docs/rules.md §11.2):
        they are hidden with it, and back when it is restored."""
        return self.filter(lead__deleted_at=None, contact__deleted_at=None, opportunity__deleted_at=None)


class Task(models.Model):
    class Kind(models.TextChoices):
        CALL = "call", "Call"
        EMAIL = "email", "Email"
        LINKEDIN = "linkedin", "LinkedIn"
        TODO = "todo", "To do"

    title = models.CharField(max_length=200)
    kind = models.CharField(max_length=20, choices=Kind.choices, default=Kind.TODO)
    due_at = models.DateTimeField()
    owner = models.ForeignKey(USER, on_delete=models.CASCADE, related_name="tasks")
    lead = models.ForeignKey(Lead, null=True, blank=True, on_delete=models.CASCADE, related_name="tasks",
                             db_index=False)
    contact = models.ForeignKey(Contact, null=True, blank=True, on_delete=models.CASCADE, related_name="tasks",
                                db_index=False)
    # A deal's task (the stale_opportunities job's "accept or unqualify" for its AE).
    opportunity = models.ForeignKey("opportunities.Opportunity", null=True, blank=True, on_delete=models.CASCADE,
                                    db_index=False,  # task_opportunity leads with it
                                    related_name="tasks")
    # A sequence step's task: its enrolment and the step's position (one task per step).
    enrollment = models.ForeignKey(Enrollment, null=True, blank=True, on_delete=models.CASCADE, db_index=False,
                                   related_name="tasks")  # task_step leads with it
    step = models.PositiveSmallIntegerField(null=True, blank=True)
    done_at = models.DateTimeField(null=True, blank=True)
    created_by = models.ForeignKey(USER, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)

    objects = TaskQuerySet.as_manager()

    class Meta:
        constraints = [
            models.CheckConstraint(condition=Q(lead__isnull=True) | Q(contact__isnull=True), name="task_one_person"),
            models.CheckConstraint(
                condition=Q(opportunity__isnull=True) | (Q(lead__isnull=True) & Q(contact__isnull=True)),
                name="task_one_subject"),
            models.CheckConstraint(condition=Q(enrollment__isnull=True) | Q(step__gte=1), name="task_step_numbered"),
            models.UniqueConstraint(fields=["enrollment", "step"], name="task_step"),
        ]
        indexes = [
            # The Today page: a user's open tasks by due time.
            models.Index(fields=["owner", "due_at", "id"], name="task_open_by_owner", condition=Q(done_at=None)),
            models.Index(fields=["lead", "due_at"], name="task_lead"),
            models.Index(fields=["contact", "due_at"], name="task_contact"),
            models.Index(fields=["opportunity", "due_at"], name="task_opportunity"),
        ]

    def __str__(self) -> str:
        return f"{self.title} (due {self.due_at:%Y-%m-%d %H:%M})"
