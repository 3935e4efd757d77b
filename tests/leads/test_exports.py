"""CSV exports of the lead and contact lists: the page's filters, order and access, every
row (not a page), streamed, and safe against formulas in a spreadsheet."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from leads.models import Status
from sdrcrm.exports import cell
from tests.conftest import exported
from tests.factories import ContactFactory, LeadFactory

pytestmark = pytest.mark.django_db


def test_the_lead_export_has_every_row_of_the_view_in_its_order_and_nothing_else(client, sdr, other_sdr):
    now = timezone.now()
    mqls = [LeadFactory(owner=sdr, status=Status.MQL, status_changed_at=now - timedelta(hours=n)) for n in range(60)]
    LeadFactory(owner=sdr, status=Status.ACCEPTED)  # another view
    LeadFactory(owner=other_sdr, status=Status.MQL)  # another team's
    client.force_login(sdr)

    rows = exported(client, "/leads/export.csv?view=my_mqls")

    assert [int(row["id"]) for row in rows] == [lead.pk for lead in reversed(mqls)]  # the oldest change first
    assert len(rows) == 60  # more than a page of the list
    first = rows[0]
    assert (first["email"], first["status"], first["owner"]) == (mqls[-1].email, "mql", sdr.username)


def test_the_lead_export_follows_the_search_and_status_filters(client, sdr):
    wanted = LeadFactory(owner=sdr, company="Initech", status=Status.MQL)
    LeadFactory(owner=sdr, company="Initech", status=Status.RAW)
    LeadFactory(owner=sdr, company="Globex", status=Status.MQL)
    client.force_login(sdr)

    rows = exported(client, "/leads/export.csv?q=Init&status=mql")

    assert [int(row["id"]) for row in rows] == [wanted.pk]


def test_the_list_links_its_export_with_the_same_filters(client, sdr):
    client.force_login(sdr)
    page = client.get("/leads/?view=my_mqls&status=mql").content.decode()
    assert 'href="/leads/export.csv?view=my_mqls&amp;status=mql">Export as CSV</a>' in page


def test_a_cell_that_looks_like_a_formula_is_quoted(client, sdr):
    lead = LeadFactory(owner=sdr, company='=HYPERLINK("http://evil.example","x")', title="@SUM(A1)",
                       phone="+1 415 555 0100")
    client.force_login(sdr)

    row = exported(client, "/leads/export.csv")[0]

    assert int(row["id"]) == lead.pk
    assert row["company"] == '\'=HYPERLINK("http://evil.example","x")'
    assert (row["title"], row["phone"]) == ("'@SUM(A1)", "'+1 415 555 0100")


@pytest.mark.parametrize(("value", "text"), [
    (None, ""), ("-5", "'-5"), ("\tx", "'\tx"), ("\rx", "'\rx"), ("plain", "plain"), (42, "42")])
def test_cells(value, text):
    assert cell(value) == text


def test_the_export_takes_the_same_queries_for_ten_rows_or_a_hundred(client, sdr, django_assert_max_num_queries):
    client.force_login(sdr)
    for _ in range(10):
        LeadFactory(owner=sdr)
    with django_assert_max_num_queries(6) as few:
        exported(client, "/leads/export.csv")
    for _ in range(90):
        LeadFactory(owner=sdr)
    with django_assert_max_num_queries(len(few.captured_queries)):
        assert len(exported(client, "/leads/export.csv")) == 100


def test_the_contact_export_has_the_users_contacts_only(client, sdr, other_sdr):
    mine = ContactFactory(owner=sdr, email="mine@acme.com")
    ContactFactory(owner=other_sdr, email="theirs@globex.com")
    client.force_login(sdr)

    rows = exported(client, "/contacts/export.csv")

    assert [row["email"] for row in rows] == [mine.email]
    assert rows[0]["account"] == (mine.account.name if mine.account else "")


def test_a_visitor_must_log_in_and_an_unknown_view_is_not_found(client, sdr):
    assert client.get("/leads/export.csv")["Location"].startswith("/login/")
    client.force_login(sdr)
    assert client.get("/leads/export.csv?view=nope").status_code == 404

