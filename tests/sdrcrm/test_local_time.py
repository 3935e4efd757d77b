"""Pages show times in the user's region's time zone (sdrcrm.local_time,
LocalTimeMiddleware), named; a user with no region sees UTC; the API keeps UTC, also
for a browser's session."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from sdrcrm.models import Region, Role
from tests.conftest import lead_page
from tests.factories import LeadFactory, UserFactory

pytestmark = pytest.mark.django_db

DUE = datetime(2026, 12, 8, 15, 0, tzinfo=UTC)


@pytest.mark.parametrize(("region", "shown"), [
    (Region.AMER, "2026-12-08 10:00 EST"),
    (Region.EMEA, "2026-12-08 15:00 GMT"),
    (Region.APAC, "2026-12-09 02:00 AEDT"),
    ("", "2026-12-08 15:00 UTC"),
])
def test_a_lead_page_shows_the_follow_up_time_in_the_users_zone(client, region, shown):
    lead = LeadFactory(sla_due_at=DUE)
    client.force_login(UserFactory(role=Role.OPS, region=region))

    page = lead_page(client, lead)

    assert f"<dt>Follow up by</dt><dd>{shown}" in page


def test_the_api_keeps_utc_for_a_browsers_session(client, sdr):
    lead = LeadFactory(owner=sdr, sla_due_at=DUE)
    client.force_login(sdr)

    answer = client.get(f"/api/v1/leads/{lead.pk}/")

    assert answer.status_code == 200 and answer.json()["sla_due_at"] == "2026-12-08T15:00:00Z"
