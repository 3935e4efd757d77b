"""A work list says when in words an SDR reads at a glance, in their zone
(sdrcrm/templatetags/moments.py): "Today 10:17", "Mon 14:30", "25 Oct 19:46"; the full
date and zone stay in the title."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from django.utils import timezone

from leads.models import Task
from sdrcrm.templatetags.moments import moment
from tests.factories import LeadFactory

NEW_YORK = ZoneInfo("America/New_York")
NOW = datetime(2026, 12, 9, 15, 0, tzinfo=UTC)  # Wednesday 10:00 in New York


@pytest.mark.parametrize(("value", "said"), [
    (datetime(2026, 12, 9, 18, 17, tzinfo=UTC), "Today 13:17"),
    (datetime(2026, 12, 10, 4, 30, tzinfo=UTC), "Today 23:30"),  # already the 10th in UTC
    (datetime(2026, 12, 8, 21, 0, tzinfo=UTC), "Yesterday 16:00"),
    (datetime(2026, 12, 10, 14, 0, tzinfo=UTC), "Tomorrow 09:00"),
    (datetime(2026, 12, 14, 19, 30, tzinfo=UTC), "Mon 14:30"),
    (datetime(2026, 12, 3, 19, 30, tzinfo=UTC), "Thu 14:30"),
    (datetime(2026, 10, 25, 23, 46, tzinfo=UTC), "25 Oct 19:46"),
    (datetime(2025, 10, 25, 23, 46, tzinfo=UTC), "25 Oct 2025"),
])
def test_a_moment_is_said_from_the_users_day(value, said):
    with timezone.override(NEW_YORK):
        assert moment(value, NOW) == said


@pytest.mark.django_db
def test_the_today_page_says_when_and_keeps_the_full_time_in_the_title(client, sdr):
    due = timezone.now() + timedelta(minutes=5)
    lead = LeadFactory(owner=sdr)
    Task.objects.create(owner=sdr, created_by=sdr, title="Call back", kind="call", lead=lead, due_at=due)
    client.force_login(sdr)

    page = client.get("/leads/today/").content.decode()

    with timezone.override(NEW_YORK):
        said, full = moment(due, timezone.now()), f"{due.astimezone(NEW_YORK):%Y-%m-%d %H:%M %Z}"
    assert f'title="{full}">{said}</time>' in page
