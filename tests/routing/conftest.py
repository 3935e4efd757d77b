"""Fixtures and helpers the routing tests share (the project-wide ones, pool_of among them,
are in tests/conftest.py)."""

from __future__ import annotations

from leads import services
from leads.models import Lead


def ingest(email: str, **fields) -> Lead:
    """A lead through the ingest pipeline (classified, scored, routed), as an anonymous web
    form sends it: a webcast registration from Doe unless `fields` say otherwise."""
    return services.ingest_lead({"email": email, "last_name": "Doe", "initial_source": "webcast", **fields},
                                by=None).lead
