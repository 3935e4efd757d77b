"""Shared work lists: a lead sits in a queue or has an owner, never both."""

from __future__ import annotations

from django.db import models


class Queue(models.Model):
    """A shared work list: a lead sits in a queue or has an owner, never both."""

    UNASSIGNED = "Unassigned"
    INQUIRY = "Inquiry Queue"
    COMMUNITY_ADVOCATE = "Community Advocate Queue"
    SALES_ADMIN = "Sales Admin"

    name = models.CharField(max_length=100, unique=True)
    description = models.TextField(blank=True)

    def __str__(self) -> str:
        return self.name



class QueueTally(models.Model):
    """One figure of the team queues board as the `queue_counts` job last counted it
    (leads/queues.py): an SDR's leads in a view or in SLA breach (owner set), or the leads
    waiting in a shared queue (queue set). The job replaces them all every minute, so a
    board read costs the same at any number of leads; `counted_at` is the board's "as of"."""

    BREACHES = "breaches"
    WAITING = "waiting"

    owner = models.ForeignKey("sdrcrm.User", null=True, on_delete=models.CASCADE, related_name="+", db_index=False)
    queue = models.ForeignKey(Queue, null=True, on_delete=models.CASCADE, related_name="+")
    key = models.CharField(max_length=30)  # a view of leads/worklists.py LEAD_VIEWS, BREACHES or WAITING
    count = models.PositiveIntegerField()
    oldest = models.DateTimeField(null=True)  # the oldest status change among them (breaches: the earliest due)
    counted_at = models.DateTimeField()

    class Meta:
        indexes = [models.Index(fields=["owner", "key"], name="queuetally_owner")]
        constraints = [
            models.CheckConstraint(condition=models.Q(owner__isnull=False, queue__isnull=True)
                                   | models.Q(owner__isnull=True, queue__isnull=False),
                                   name="queuetally_owner_or_queue"),
        ]

    def __str__(self) -> str:
        return f"{self.owner_id or self.queue_id} {self.key}: {self.count}"
