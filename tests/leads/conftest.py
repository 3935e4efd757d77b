"""Fixtures the lead tests share (the project-wide ones are in tests/conftest.py)."""

from __future__ import annotations

import pytest

from leads.models import Status
from tests.factories import LeadFactory

LEADS = "/api/v1/leads/"
# docs/rules.md §11: a lead view's page takes at most 5 queries, however deep and however many rows.
MAX_LIST_QUERIES = 5


@pytest.fixture
def qualifying(sdr):
    """A lead `sdr` is qualifying, ready to convert: Pat Lee, VP Engineering at Initech."""
    return LeadFactory(owner=sdr, status=Status.QUALIFYING, email="pat@initech.com", first_name="Pat",
                       last_name="Lee", title="VP Engineering", phone="+1 415 555 0100", company="Initech")
