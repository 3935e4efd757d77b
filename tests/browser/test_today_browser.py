"""An SDR starts the day on the Today page in a real Chromium: an overdue call and a
contact request due today; one click marks the call done and another snoozes a task, each
row changed in place (htmx) without the page being loaded again."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone
from playwright.sync_api import expect

from leads import today as work
from leads.models import Status, Task
from tests.factories import LeadFactory

from .conftest import login, screenshots

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.usefixtures("seeded")]


def test_an_sdr_lands_on_today_and_marks_an_overdue_call_done(page, live_server, sdr):
    now = timezone.now()
    left = work.end_of_day(sdr, now) - now  # of the SDR's own day (late in their evening, minutes)
    lead = LeadFactory(owner=sdr, first_name="Cleo", last_name="Contact", company="Initech")
    call = Task.objects.create(owner=sdr, created_by=sdr, title="Call Cleo back", kind="call", lead=lead,
                               due_at=now - timedelta(hours=2))
    deck = Task.objects.create(owner=sdr, created_by=sdr, title="Send Cleo the deck", kind="email", lead=lead,
                               due_at=now + left / 2)
    LeadFactory(owner=sdr, status=Status.MQL, first_name="Dana", last_name="Demo",
                sla_due_at=now + left * 3 / 4)

    login(page, live_server, sdr)

    expect(page).to_have_url(f"{live_server.url}/leads/today/")
    overdue = page.locator("#overdue")
    expect(overdue).to_contain_text("Call Cleo back")
    expect(page.locator("#sla-due")).to_contain_text("Dana Demo")
    screenshots(page, "today")
    page.evaluate("window.loadedOnce = true")  # gone if the page were loaded again
    overdue.get_by_role("button", name="Done").click()

    expect(overdue.get_by_role("status")).to_have_text("Done: Call Cleo back.")
    expect(overdue.get_by_role("button", name="Done")).to_have_count(0)
    due = page.locator("#due-today")
    due.get_by_role("button", name="Snooze a day").click()
    expect(due.get_by_role("status")).to_contain_text("Snoozed: Send Cleo the deck, now due")
    assert page.evaluate("window.loadedOnce") is True
    screenshots(page, "today-after-clicks")
    call.refresh_from_db()
    deck.refresh_from_db()
    assert call.done_at is not None and deck.due_at > now + timedelta(hours=23)

    page.reload()
    expect(page.locator("#overdue")).to_contain_text("Nothing overdue.")
    expect(page.locator("#due-today")).to_contain_text("Nothing else due today.")


def test_a_long_list_leaves_no_hole_beside_it_on_a_wide_screen(page, live_server, sdr):
    """The four lists flow down columns: with ten overdue tasks the follow-ups card sits
    beside the long card, not below it (a grid's row would leave the space empty)."""
    now = timezone.now()
    lead = LeadFactory(owner=sdr, first_name="Cleo", last_name="Contact")
    for n in range(10):
        Task.objects.create(owner=sdr, created_by=sdr, title=f"Call back #{n}", kind="call", lead=lead,
                            due_at=now - timedelta(hours=n + 1))
    page.set_viewport_size({"width": 1280, "height": 900})
    login(page, live_server, sdr)

    overdue, follow_ups = page.locator("#overdue").bounding_box(), page.locator("#sla-due").bounding_box()

    assert follow_ups["y"] < overdue["y"] + overdue["height"]
    assert follow_ups["x"] > overdue["x"] + overdue["width"]  # in a column of its own beside it
