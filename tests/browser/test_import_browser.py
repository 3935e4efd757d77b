"""An SDR imports a list in a real Chromium: picks the file, sees how its columns were read
and what is wrong with which row, maps the column the import did not know, imports the
good rows, and finds the new lead in their list; the phone layout never pans sideways."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from leads.models import Lead

from .conftest import login, screenshots

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.usefixtures("seeded")]

FILE = (b"Email,First name,Family,Lead Source,Company\n"
        b"ana@initech.com,ana,Lopez,webcast,Initech\n"
        b"bo@globex.com,Bo,Ray,carrier pigeon,Globex\n"
        b"not-an-email,Cy,Moss,webcast,Hooli\n")


def test_an_sdr_imports_a_list_from_the_lead_list(page, live_server, sdr):
    login(page, live_server, sdr)
    page.goto(f"{live_server.url}/leads/")
    page.get_by_role("link", name="import", exact=True).click()
    page.get_by_label("CSV or XLSX file").set_input_files(
        {"name": "conference.csv", "mimeType": "text/csv", "buffer": FILE})
    page.get_by_role("button", name="Check the file").click()

    expect(page.get_by_role("heading", name="conference.csv")).to_be_visible()
    problems = page.locator("#import-problems")
    expect(problems).to_contain_text("A new lead needs its last name.")  # "Family" is not a name it knows
    expect(problems).to_contain_text("not a valid email")
    page.get_by_label("Family").select_option("last_name")
    page.get_by_role("button", name="Check again with these columns").click()
    expect(page.locator("#import-progress")).to_contain_text("A run would create 1")
    screenshots(page, "import-checked")
    assert page.evaluate("document.documentElement.scrollWidth") <= 1280
    page.set_viewport_size({"width": 390, "height": 900})
    assert page.evaluate("document.documentElement.scrollWidth") <= 390
    page.set_viewport_size({"width": 1280, "height": 900})

    page.get_by_role("button", name="Import 1 good row").click()
    expect(page.locator("#import-progress")).to_contain_text("1 created, 0 updated, 0 unchanged, 2 rejected")
    screenshots(page, "import-finished")
    lead = Lead.objects.get()
    assert (lead.first_name, lead.last_name, lead.owner_id) == ("Ana", "Lopez", sdr.pk)
    page.goto(f"{live_server.url}/leads/?q=Lopez")
    expect(page.get_by_role("link", name="Ana Lopez")).to_be_visible()
