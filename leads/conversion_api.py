"""The lead API's conversion action, mixed into LeadViewSet (issue 5)."""

from __future__ import annotations


class ConvertActionMixin:
    pass
