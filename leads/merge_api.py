"""The lead API's duplicates, merge and undo actions, mixed into LeadViewSet (issue 5)."""

from __future__ import annotations


class MergeActionsMixin:
    pass
