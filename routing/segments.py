"""Sales segment and public sector, as pure functions (docs/rules.md §2). The values are those of
sdrcrm.models.Segment (a test holds them equal); this module imports no Django."""

from __future__ import annotations

from collections.abc import Iterable

LARGE, MID_MARKET, SMB, PUBSEC, UNKNOWN = "large", "mid_market", "smb", "pubsec", "unknown"
# Smallest to largest: an account hierarchy takes the largest found anywhere in it.
ORDER = [UNKNOWN, SMB, MID_MARKET, LARGE]


def segment_for(employee_count: int | None) -> str:
    if employee_count is None or employee_count < 1:
        return UNKNOWN
    if employee_count >= 2000:
        return LARGE
    if employee_count >= 100:
        return MID_MARKET
    return SMB


def largest(segments: Iterable[str]) -> str:
    return max(segments, key=ORDER.index, default=UNKNOWN)


def is_public_sector(flagged: bool, industry: str, country: str) -> bool:
    """Flagged public sector, or a US organisation in the government industry."""
    return flagged or (industry.strip().lower() == "government" and country.upper() == "US")
