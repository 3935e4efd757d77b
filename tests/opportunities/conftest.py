"""Fixtures and helpers the opportunity tests share (the project-wide ones are in tests/conftest.py)."""

from __future__ import annotations

from decimal import Decimal

from opportunities.models import Opportunity
from tests.factories import OpportunityFactory


def sao_ready(**fields) -> Opportunity:
    """A stage-0 opportunity that meets the SAO criteria: authority confirmed, a business
    problem and an IACV (`fields` add to them or override them)."""
    return OpportunityFactory(**{"authority_confirmed": True, "business_problem": "Slow releases",
                                 "iacv": Decimal("20000"), **fields})
