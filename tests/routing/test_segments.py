from __future__ import annotations

import pytest

from routing import segments


@pytest.mark.parametrize(
    ("count", "segment"),
    [(None, "unknown"), (0, "unknown"), (1, "smb"), (99, "smb"), (100, "mid_market"), (1999, "mid_market"),
     (2000, "large"), (250000, "large")],
)
def test_segment_from_total_employee_count(count, segment):
    assert segments.segment_for(count) == segment


def test_a_hierarchy_takes_the_largest_segment():
    assert segments.largest(["smb", "unknown", "large", "mid_market"]) == "large"
    assert segments.largest([]) == "unknown"


@pytest.mark.parametrize(
    ("flagged", "industry", "country", "pubsec"),
    [(True, "", "DE", True), (False, "Government", "US", True), (False, "government", "GB", False),
     (False, "Software", "US", False)],
)
def test_public_sector(flagged, industry, country, pubsec):
    assert segments.is_public_sector(flagged, industry, country) is pubsec


def test_the_pure_segments_are_the_stored_choices():
    from sdrcrm.models import Segment

    assert {segments.LARGE, segments.MID_MARKET, segments.SMB, segments.PUBSEC, segments.UNKNOWN} == set(Segment.values)
