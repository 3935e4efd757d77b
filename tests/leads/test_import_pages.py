"""The import pages (/leads/imports/): upload → checked (every problem shown, nothing
written) → columns changed and checked again → run, with its progress and counts."""

from __future__ import annotations

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from leads.models import Import, Lead
from sdrcrm.models import Role
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db

FILE = (b"Email,Family,Lead Source,Company\n"
        b"ana@initech.com,Lopez,webcast,Initech\n"
        b"bad-email,Ray,webcast,Globex\n")


def test_an_sdr_checks_a_file_changes_its_columns_then_imports_it(client, sdr):
    client.force_login(sdr)
    assert 'href="/leads/imports/"' in client.get("/leads/").content.decode()

    response = client.post("/leads/imports/", {"file": SimpleUploadedFile("list.csv", FILE)})
    assert response.status_code == 302
    record = Import.objects.get()
    page = client.get(response["Location"]).content.decode()

    # "Family" is no name the import knows: every row lacks its last name until it is mapped.
    assert record.state == "checked" and record.good == 0 and not Lead.objects.exists()
    assert page.count('data-line="2"') == 1 and "A new lead needs its last name." in page
    assert 'data-line="3"' in page and "not a valid email" in page
    assert "Import 0 good rows" in page and "disabled" in page

    client.post(f"/leads/imports/{record.pk}/mapping/", {"column-0": "email", "column-1": "last_name",
                                                         "column-2": "initial_source", "column-3": "company"})
    record.refresh_from_db()
    page = client.get(f"/leads/imports/{record.pk}/").content.decode()
    assert (record.good, record.rejected, record.mapping["Family"]) == (1, 1, "last_name")
    assert "Import 1 good row" in page and 'data-line="2"' not in page

    done = client.post(f"/leads/imports/{record.pk}/run/", follow=True).content.decode()
    record.refresh_from_db()
    assert (record.state, record.created, record.rejected) == ("finished", 1, 1)
    assert "1 created, 0 updated, 0 unchanged, 1 rejected" in done
    lead = Lead.objects.get()
    assert (lead.email, lead.last_name, lead.owner) == ("ana@initech.com", "Lopez", sdr)  # an SDR's own list
    assert client.post(f"/leads/imports/{record.pk}/run/", follow=True).content.decode().count(
        "already been run") == 1
    errors = client.get(f"/api/v1/imports/{record.pk}/errors/")
    assert b"".join(errors.streaming_content).decode().splitlines()[1].startswith("bad-email,Ray,webcast,Globex,3,")


def test_a_running_import_refreshes_its_progress_and_a_bad_file_is_refused_in_words(client, ops):
    client.force_login(ops)
    refused = client.post("/leads/imports/", {"file": SimpleUploadedFile("list.pdf", b"%PDF-1.4")})
    assert refused.status_code == 400 and "Send a .csv or .xlsx file." in refused.content.decode()
    record = Import.objects.create(file_name="big.csv", sha256="0" * 64, size=1, rows=10, good=10, rows_done=4,
                                   state=Import.State.RUNNING, created_by=ops)
    fragment = client.get(f"/leads/imports/{record.pk}/", HTTP_HX_REQUEST="true").content.decode()
    assert 'hx-trigger="every 1s"' in fragment and "4 of 10 rows" in fragment and "<html" not in fragment


def test_imports_are_for_their_owner_ops_and_prospecting_not_sellers(client, sdr, teammate):
    client.force_login(teammate)
    client.post("/leads/imports/", {"file": SimpleUploadedFile("list.csv", FILE)})
    theirs = Import.objects.get()
    client.force_login(sdr)
    assert client.get(f"/leads/imports/{theirs.pk}/").status_code == 404
    assert client.post(f"/leads/imports/{theirs.pk}/run/").status_code == 404
    client.force_login(UserFactory(role=Role.AE))
    assert client.get("/leads/imports/").status_code == 403


def test_a_column_mapped_by_hand_is_read_the_same_way_in_that_users_next_file(client, sdr, teammate):
    client.force_login(sdr)
    client.post("/leads/imports/", {"file": SimpleUploadedFile("list.csv", FILE)})
    first = Import.objects.get()
    client.post(f"/leads/imports/{first.pk}/mapping/", {"column-0": "email", "column-1": "last_name",
                                                        "column-2": "initial_source", "column-3": ""})

    client.post("/leads/imports/", {"file": SimpleUploadedFile("next.csv", FILE)})
    second = Import.objects.exclude(pk=first.pk).get()
    # "Family" fills the last name and "Company" stays out, as sdr chose; not for a teammate.
    assert second.mapping == {"Email": "email", "Family": "last_name", "Lead Source": "initial_source"}
    client.force_login(teammate)
    client.post("/leads/imports/", {"file": SimpleUploadedFile("theirs.csv", FILE)})
    theirs = Import.objects.filter(created_by=teammate).get()
    assert "Family" not in theirs.mapping and theirs.mapping["Company"] == "company"
