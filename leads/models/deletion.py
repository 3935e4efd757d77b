"""Recoverable deletes (docs/rules.md §11.2): a deleted lead, contact, account or opportunity
keeps its row, stamped with when and by whom, for ops to restore within
TRASH_RETENTION_DAYS, after which the `trash_purge` job deletes it for good.

The default manager (`objects`) hides deleted rows, so every list, page, search, job and
count that starts from it leaves them out; `all_objects` sees them (the Recently deleted
page, restore, purge, and the email-uniqueness checks). Django's base manager stays plain,
so a live record's foreign key to a deleted one still loads (pages show it as deleted)."""

from __future__ import annotations

from django.conf import settings
from django.db import models


class LiveManager(models.Manager):
    """The rows not deleted; `LiveManager.from_queryset(SomeQuerySet)()` keeps the
    queryset's methods (`visible_to`, `editable_by`)."""

    def get_queryset(self) -> models.QuerySet:
        return super().get_queryset().filter(deleted_at=None)


class SoftDeletable(models.Model):
    """The two fields of a recoverable delete, written only by leads/trash.py."""

    deleted_at = models.DateTimeField(null=True, blank=True, editable=False)
    # No index of its own (every row would carry a null); the partial `…_deleted` index of
    # each table serves the Recently deleted page and the purge.
    deleted_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL,
                                   related_name="+", db_index=False, editable=False)

    class Meta:
        abstract = True

    @property
    def is_deleted(self) -> bool:
        return self.deleted_at is not None
