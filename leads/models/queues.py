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

