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


def test_ops_create_a_territory_and_edit_its_geography_in_the_page(page, live_server, ops):
    from routing.models import Territory

    sdr = UserFactory(role=Role.SDR, first_name="Nora", last_name="North")
    login(page, live_server, ops)
    page.goto(f"{live_server.url}/routing/territories/")
    page.get_by_text("New territory").click()
    form = page.locator("#new-territory")
    form.get_by_label("Name").fill("Nordics")
    form.get_by_label("Region", exact=True).select_option("emea")
    form.get_by_label("Countries").fill("se no dk zz")
    form.get_by_label("SDR", exact=True).select_option(label="Nora North")
    form.get_by_role("button", name="Create territory").click()
    expect(page.locator("#new-territory")).to_contain_text("Unknown country codes: ZZ.")
    expect(page.locator("#new-territory").get_by_label("Countries")).to_have_value("se no dk zz")
    screenshots(page, "ops-territory-refused")

    page.locator("#new-territory").get_by_label("Countries").fill("se no dk fi")
    page.locator("#new-territory").get_by_role("button", name="Create territory").click()
    expect(page.get_by_role("status").or_(page.get_by_role("alert")).first).to_contain_text("Territory Nordics saved")
    row = page.locator("tr[data-territory='Nordics']")
    expect(row).to_contain_text("SE,NO,DK,FI")

    row.get_by_text("Edit").click()
    row.get_by_label("Countries").fill("SE NO DK FI IS")
    row.get_by_role("button", name="Save territory").click()
    expect(page.locator("tr[data-territory='Nordics']")).to_contain_text("SE,NO,DK,FI,IS")
    screenshots(page, "ops-territories")
    assert Territory.objects.get(name="Nordics").sdr == sdr
    page.set_viewport_size({"width": 390, "height": 900})
    page.reload()
    wide = page.evaluate("""[...document.querySelectorAll('body *')].filter(e => e.getBoundingClientRect().right > 391)
        .map(e => e.tagName + '.' + e.className + '#' + e.id).slice(0, 8)""")
    assert page.evaluate("document.documentElement.scrollWidth") <= 390, wide
