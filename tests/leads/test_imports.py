"""Imports of leads from CSV and XLSX (leads/imports.py, `POST /api/v1/imports/`): the dry
run reports every problem per row and column and writes nothing; the real run upserts by
email, scores as the API does, and reports created/updated/unchanged/rejected with an error
file; importing the same file again changes nothing; bad files get a 400 in words."""

from __future__ import annotations

import codecs
import csv
import io
import json

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from openpyxl import Workbook

from leads import bulk, imports
from leads.models import BlockedDomain, Import, ImportRow, Lead, StatusChange
from sdrcrm.models import Role
from tests.factories import LeadFactory, UserFactory

pytestmark = pytest.mark.django_db

URL = "/api/v1/imports/"
HEADER = ["E-mail", "First Name", "Surname", "Job Title", "Company", "Country", "Employees", "Lead Source",
          "Unsubscribed", "Owner"]


def csv_bytes(rows: list[list[str]], header: list[str] = HEADER, encoding: str = "utf-8") -> bytes:
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(header)
    writer.writerows(rows)
    return out.getvalue().encode(encoding)


def upload(api, user, content: bytes, name: str = "leads.csv", **fields):
    return api.as_user(user).post(URL, {"file": SimpleUploadedFile(name, content), **fields}, format="multipart")


def error_file(api, user, pk: int) -> str:
    response = api.as_user(user).get(f"{URL}{pk}/errors/")
    assert response.status_code == 200 and response["Content-Type"].startswith("text/csv")
    return b"".join(response.streaming_content).decode()


GOOD = ["ana@initech.com", "ana", "lopez", "VP Engineering", "Initech", "US", "1200", "webcast", "no", ""]


def test_the_dry_run_reports_every_problem_by_row_and_column_and_writes_nothing(api, ops, sdr):
    BlockedDomain.objects.create(domain="blocked.biz")
    content = csv_bytes([
        GOOD,
        ["not-an-email", "Bo", "Ray", "", "", "US", "", "webcast", "", ""],
        ["cy@firm.com", "Cy", "", "", "", "US", "", "webcast", "", ""],          # new lead, no last name
        ["di@firm.com", "Di", "Moss", "", "", "Atlantis", "", "webcast", "", ""],  # unknown country
        ["ed@firm.com", "Ed", "Ng", "", "", "US", "", "", "", ""],              # no initial source
        ["fa@firm.com", "Fa", "Oz", "", "", "US", "", "carrier pigeon", "", ""],
        ["gi@blocked.biz", "Gi", "Po", "", "", "US", "", "webcast", "", ""],
        ["ANA@initech.com", "Ana", "Lopez", "", "", "US", "", "webcast", "", ""],  # the same as line 2
        ["hu@firm.com", "Hu", "Qi", "", "", "US", "lots", "webcast", "", ""],     # not a number
        ["io@firm.com", "Io", "Re", "", "", "US", "", "webcast", "", "nobody"],   # unknown owner
        ["ju@firm.com", "Ju", "Sa", "", "", "US", "", "webcast", "maybe", ""],
        ["ko@mailinator.com", "Ko", "Tu", "", "", "US", "", "webcast", "", ""],  # disposable
        ["lu@firm.com", "Lu", "X" * 300, "", "", "US", "", "webcast", "", sdr.username],  # too long
    ])

    response = upload(api, ops, content, dry_run="true")

    assert response.status_code == 201, response.content
    body = response.json()
    record = body["record"]
    assert (record["state"], record["rows"], record["good"], record["created"], record["updated"],
            record["rejected"]) == ("checked", 13, 1, 1, 0, 12)
    assert record["mapping"] == {
        "E-mail": "email", "First Name": "first_name", "Surname": "last_name", "Job Title": "title",
        "Company": "company", "Country": "country", "Employees": "employee_count", "Lead Source": "initial_source",
        "Unsubscribed": "opted_out", "Owner": "owner"}
    problems = {problem["line"]: problem["errors"] for problem in body["problems"]}
    assert set(problems) == set(range(3, 15))
    assert "not a valid email" in problems[3]["E-mail"][0]
    assert problems[4] == {"Surname": ["A new lead needs its last name."]}
    assert list(problems[5]) == ["Country"]
    assert problems[6] == {"Lead Source": ["A new lead needs its initial source."]}
    assert list(problems[7]) == ["Lead Source"]
    assert "block list" in problems[8]["E-mail"][0]
    assert problems[9] == {"E-mail": ["The same email as line 2."]}
    assert list(problems[10]) == ["Employees"]
    assert problems[11] == {"Owner": ["No active user 'nobody'."]}
    assert problems[12] == {"Unsubscribed": ["'maybe' is not yes or no."]}
    assert "disposable" in problems[13]["E-mail"][0]
    assert list(problems[14]) == ["Surname"]
    assert not Lead.objects.exists()  # nothing written
    lines = list(csv.reader(io.StringIO(error_file(api, ops, record["id"]))))
    assert lines[0] == [*HEADER, "line", "error"] and len(lines) == 13
    assert lines[1][:2] == ["not-an-email", "Bo"] and lines[1][-2] == "3"


def test_the_real_run_upserts_by_email_scores_like_the_api_and_again_changes_nothing(api, ops):
    known = LeadFactory(email="bo@globex.com", last_name="Ray", title="", initial_source="webcast",
                        lead_source="webcast")
    content = csv_bytes([
        GOOD,
        ["bo@globex.com", "Bo", "Ray", "CTO", "Globex", "US", "", "webcast", "yes", ""],
        ["cy@firm.com", "Cy", "", "", "", "US", "", "webcast", "", ""],
    ])

    first = upload(api, ops, content, dry_run="false").json()["record"]

    assert (first["state"], first["percent"]) == ("finished", 100)
    assert (first["created"], first["updated"], first["unchanged"], first["rejected"]) == (1, 1, 0, 1)
    ana = Lead.objects.get(email="ana@initech.com")
    assert (ana.first_name, ana.last_name, ana.employee_count, ana.initial_source) == ("Ana", "Lopez", 1200, "webcast")
    twin = api.as_user(ops).post("/api/v1/leads/", {
        "email": "twin@initech.com", "first_name": "Ana", "last_name": "Lopez", "title": "VP Engineering",
        "company": "Initech", "country": "US", "employee_count": 1200, "initial_source": "webcast"}, format="json")
    assert ana.score == twin.json()["score"] and ana.status == twin.json()["status"]
    known.refresh_from_db()
    assert (known.title, known.company, known.opted_out) == ("CTO", "Globex", True)
    assert Lead.objects.count() == 3  # ana, bo, the twin: bo was updated, not doubled

    history, touched = StatusChange.objects.count(), {lead.pk: lead.updated_at for lead in Lead.objects.all()}
    again = upload(api, ops, content, dry_run="false").json()["record"]
    assert (again["created"], again["updated"], again["unchanged"], again["rejected"]) == (0, 0, 2, 1)
    assert again["sha256"] == first["sha256"]
    assert StatusChange.objects.count() == history
    assert {lead.pk: lead.updated_at for lead in Lead.objects.all()} == touched  # not one lead written
    assert Import.objects.count() == 2


def test_a_mapping_names_the_columns_the_headers_do_not(api, ops):
    content = csv_bytes([["ana@initech.com", "Lopez", "webcast", "ignored"]],
                        header=["Contact", "Family", "Origin", "Notes"])
    refused = upload(api, ops, content)
    assert refused.status_code == 400 and "No column is the email" in refused.json()["detail"]

    mapping = {"Contact": "email", "Family": "last_name", "Origin": "initial_source", "Notes": ""}
    done = upload(api, ops, content, dry_run="false", mapping=json.dumps(mapping)).json()["record"]
    assert done["created"] == 1 and done["mapping"] == {"Contact": "email", "Family": "last_name",
                                                         "Origin": "initial_source"}
    remembered = upload(api, ops, content).json()["record"]  # the same columns, no mapping sent: as mapped before
    assert remembered["mapping"] == done["mapping"]
    wrong = upload(api, ops, content, mapping=json.dumps({"Contact": "email", "Family": "salary"}))
    assert wrong.status_code == 400 and "'salary' is not a field" in wrong.json()["detail"]
    assert upload(api, ops, content, mapping="{not json").status_code == 400


def test_an_sdrs_rows_without_an_owner_are_theirs_and_another_owner_is_refused(api, sdr, teammate):
    content = csv_bytes([GOOD, ["bo@firm.com", "Bo", "Ray", "", "", "US", "", "webcast", "", teammate.username]])
    body = upload(api, sdr, content, dry_run="false").json()
    assert body["record"]["created"] == 1
    assert Lead.objects.get(email="ana@initech.com").owner == sdr
    assert list(body["problems"][0]["errors"]) == ["Owner"]
    assert upload(api, UserFactory(role=Role.AE), content).status_code == 403


def test_an_xlsx_is_read_formulas_as_text_and_a_workbook_of_several_sheets_names_one(api, ops):
    book = Workbook()
    sheet = book.active
    sheet.title = "Leads"
    sheet.append(["Email", "Last name", "Initial source", "Company"])
    sheet.append(["ana@initech.com", "Lopez", "webcast", "=HYPERLINK(\"http://evil\",\"x\")"])
    book.create_sheet("Notes").append(["nothing here"])
    out = io.BytesIO()
    book.save(out)

    refused = upload(api, ops, out.getvalue(), name="leads.xlsx")
    assert refused.status_code == 400 and "several sheets (Leads, Notes)" in refused.json()["detail"]
    assert "No sheet 'Other'" in upload(api, ops, out.getvalue(), name="leads.xlsx", sheet="Other").json()["detail"]
    done = upload(api, ops, out.getvalue(), name="leads.xlsx", sheet="Leads", dry_run="false").json()["record"]

    assert done["created"] == 1 and done["sheet"] == "Leads"
    assert Lead.objects.get().company == '=HYPERLINK("http://evil","x")'  # kept as text, never evaluated


@pytest.mark.parametrize("encoding", ["utf-8-sig", "utf-16", "latin-1"])
def test_a_csv_is_read_in_utf8_utf16_or_latin1(encoding):
    content = csv_bytes([["zoe@firm.com", "Zoë", "Müller"]], header=["email", "first name", "last name"],
                        encoding=encoding)
    if encoding == "utf-16":
        assert content.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE))
    table = imports.read_table("leads.csv", content)
    assert table.rows == [["zoe@firm.com", "Zoë", "Müller"]]


def test_a_semicolon_csv_is_read_as_such():
    table = imports.read_table("leads.csv", b"email;last name\nzoe@firm.com;M\xc3\xbcller\n")
    assert table.headers == ["email", "last name"] and table.rows == [["zoe@firm.com", "Müller"]]


def test_bad_files_get_a_400_in_words(api, ops, settings):
    assert "empty" in upload(api, ops, b"").json()["detail"]
    assert "empty" in upload(api, ops, b"\n\n").json()["detail"]
    assert ".csv or .xlsx" in upload(api, ops, b"email\nx@y.com\n", name="leads.pdf").json()["detail"]
    assert "not an XLSX" in upload(api, ops, b"email\nx@y.com\n", name="leads.xlsx").json()["detail"]
    assert "binary" in upload(api, ops, b"\x00\x01\x02email", name="leads.csv").json()["detail"]
    big = b"email,last name\n" + b"x@firm.com,Doe\n" * (imports.MAX_BYTES // 15 + 1)
    too_big = upload(api, ops, big)
    assert too_big.status_code == 400 and "over 20 MB" in too_big.json()["detail"]
    assert api.as_user(ops).post(URL, {"dry_run": "true"}, format="multipart").status_code == 400
    assert not Lead.objects.exists() and not Import.objects.exists()


def test_each_sees_their_own_imports_and_ops_see_all(api, ops, sdr, teammate):
    content = csv_bytes([GOOD])
    mine = upload(api, sdr, content).json()["record"]["id"]
    theirs = upload(api, teammate, content).json()["record"]["id"]
    assert [row["id"] for row in api.as_user(sdr).get(URL).json()["results"]] == [mine]
    assert api.as_user(sdr).get(f"{URL}{theirs}/").status_code == 404
    assert api.as_user(sdr).get(f"{URL}{theirs}/errors/").status_code == 404
    assert {row["id"] for row in api.as_user(ops).get(URL).json()["results"]} == {mine, theirs}


def test_the_error_file_of_a_formula_row_is_safe_to_open_in_a_spreadsheet(api, ops):
    content = csv_bytes([["=cmd|' /C calc'!A0", "X", "Y", "", "", "US", "", "webcast", "", ""]])
    record = upload(api, ops, content).json()["record"]
    assert "\n'=cmd" in error_file(api, ops, record["id"]).replace("\r\n", "\n")


def test_a_checked_import_runs_once_on_request(api, ops):
    checked = upload(api, ops, csv_bytes([GOOD])).json()["record"]
    assert not Lead.objects.exists()

    ran = api.as_user(ops).post(f"{URL}{checked['id']}/run/")

    assert ran.status_code == 200 and (ran.json()["state"], ran.json()["created"]) == ("finished", 1)
    assert ImportRow.objects.get(batch=checked["id"]).result == "created"
    again = api.as_user(ops).post(f"{URL}{checked['id']}/run/")
    assert again.status_code == 409 and "already been run" in again.json()["detail"]


def test_a_big_import_runs_on_the_worker_and_resumes_after_the_last_batch_a_lost_worker_committed(
        api, ops, settings, monkeypatch, django_capture_on_commit_callbacks):
    """Five rows in batches of two, over the worker's threshold: the worker is lost (an
    error) in the second batch; run again, it does the second and third batches only, and
    each row is ingested once."""
    settings.IMPORT_INLINE = 2
    monkeypatch.setattr(imports, "BATCH", 2)
    rows = [[f"p{n}@firm.com", "P", f"Doe{n}", "", "", "US", "", "webcast", "", ""] for n in range(5)]
    checked = upload(api, ops, csv_bytes(rows)).json()["record"]
    real_ingest, calls = bulk.ingest_batch, []

    def lost_in_the_second_batch(items, by, **kwargs):
        calls.append(len(items))
        if len(calls) == 2:
            raise RuntimeError("worker lost")
        return real_ingest(items, by, **kwargs)

    monkeypatch.setattr(bulk, "ingest_batch", lost_in_the_second_batch)
    with pytest.raises(RuntimeError), django_capture_on_commit_callbacks(execute=True):
        api.as_user(ops).post(f"{URL}{checked['id']}/run/")  # eager Celery: the "worker" runs in the request
    record = Import.objects.get(pk=checked["id"])
    assert (record.state, record.rows_done, record.created, record.percent) == ("running", 2, 2, 40)
    assert Lead.objects.count() == 2

    imports.execute(record.pk)  # the task delivered again

    record.refresh_from_db()
    assert (record.state, record.rows_done, record.created, record.percent) == ("finished", 5, 5, 100)
    assert calls == [2, 2, 2, 1] and Lead.objects.count() == 5
    assert record.finished_at is not None


def test_a_run_costs_the_same_queries_for_30_rows_as_for_60(api, ops):
    """A batch is read, ingested and recorded in a fixed number of queries, however many rows
    it holds (a field left deferred on the rows, and the configuration's token read for each
    row's checks, once cost a query per row each)."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    counts = []
    for size, prefix in ((5, "warm"), (30, "a"), (60, "b")):  # the first run fills the process's caches
        rows = [[f"{prefix}{n}@firm{n}.com", "Al", f"Ng{n}", "", "", "US", "", "webcast", "no", ""]
                for n in range(size)]
        checked = Import.objects.get(pk=upload(api, ops, csv_bytes(rows)).json()["record"]["id"])
        with CaptureQueriesContext(connection) as queries:
            record = imports.start(checked)  # at once: fewer rows than IMPORT_INLINE
        assert record.created == size
        # SQLite takes a bulk insert of many columns in chunks (its limit on a statement's
        # parameters): those are one statement a batch on PostgreSQL.
        counts.append(sum(not q["sql"].startswith('INSERT INTO "leads_lead"') for q in queries.captured_queries))
    assert counts[1] == counts[2]
