"""The ops day in a real Chromium: draft a routing change from the active rules, point the
EMEA trials at another pool, replay last week to see what would move, activate it, mark
someone away in the pools, and run a job now."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from leads import services
from routing.models import RuleSet
from sdrcrm.models import JobRun, Role
from tests.conftest import pool_of
from tests.factories import UserFactory

from .conftest import login, screenshots

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.usefixtures("seeded")]


def test_ops_draft_replay_and_activate_a_routing_change_then_run_a_job(page, live_server, ops):
    bdr = UserFactory(role=Role.BDR, first_name="Bea", last_name="Emea")
    abm = UserFactory(role=Role.SDR, first_name="Abe", last_name="Named")
    pool_of("EMEA BDR", bdr)
    pool_of("ABM SDR", abm)
    for n in range(2):
        lead = services.ingest_lead({"email": f"t{n}@firm{n}.de", "last_name": "Doe", "country": "DE",
                                     "initial_source": "trial_saas"}, by=None).lead
        services.record_activity(lead, "trial_request")

    login(page, live_server, ops)
    page.get_by_role("link", name="Routing", exact=True).click()
    page.get_by_role("button", name="New draft from the active rules").click()
    trial = page.locator("tr[data-kind='trial']")
    trial.locator("select[name$='param-pools.emea']").select_option("ABM SDR")
    page.get_by_label("Note").fill("EMEA trials to the ABM team")
    page.get_by_role("button", name="Save the draft").click()
    expect(page.get_by_role("alert").or_(page.get_by_role("status")).first).to_contain_text("saved")

    page.get_by_role("button", name="Replay").click()
    replay = page.locator("#replay")
    expect(replay).to_contain_text("2 leads replayed; 2 would go elsewhere.")
    expect(replay.locator("#replay-by-destination")).to_contain_text("pool:ABM SDR")
    screenshots(page, "ops-replay")
    page.get_by_role("button", name="Activate").click()
    expect(page.locator("h1")).to_contain_text("Active")
    assert RuleSet.objects.get(state="active").note == "EMEA trials to the ABM team"

    page.get_by_role("link", name="Pools").click()
    page.locator(f"#availability tr[data-user='{bdr.username}']").get_by_role("button", name="Mark away").click()
    expect(page.locator(f"#availability tr[data-user='{bdr.username}']")).to_contain_text("away")
    screenshots(page, "ops-pools")

    page.get_by_role("link", name="Jobs").click()
    page.get_by_role("button", name="Run active_passive now").click()
    expect(page.locator("#runs")).to_contain_text("run by")
    screenshots(page, "ops-jobs")
    assert JobRun.objects.get(name="active_passive").started_by == ops
