"""Sales segment and public sector, as pure functions (SPEC §5)."""

from __future__ import annotations

from collections.abc import Iterable

from sdrcrm.models import Segment

# Smallest to largest: an account hierarchy takes the largest found anywhere in it.
ORDER = [Segment.UNKNOWN, Segment.SMB, Segment.MID_MARKET, Segment.LARGE]


def segment_for(employee_count: int | None) -> str:
    if employee_count is None or employee_count < 1:
        return Segment.UNKNOWN
    if employee_count >= 2000:
        return Segment.LARGE
    if employee_count >= 100:
        return Segment.MID_MARKET
    return Segment.SMB


def largest(segments: Iterable[str]) -> str:
    return max(segments, key=ORDER.index, default=Segment.UNKNOWN)


def is_public_sector(flagged: bool, industry: str, country: str) -> bool:
    """Flagged public sector, or a US organisation in the government industry."""
    return flagged or (industry.strip().lower() == "government" and country.upper() == "US")
