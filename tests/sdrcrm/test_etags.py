"""Optimistic concurrency: every record read answers its ETag; an edit sent with an older
one answers 409 with the record as it is now and writes nothing."""

from __future__ import annotations

import pytest

from sdrcrm.models import FieldChange
from tests.factories import AccountFactory, ContactFactory, LeadFactory, OpportunityFactory

pytestmark = pytest.mark.django_db
RECORDS = {
    "leads": (LeadFactory, "title"),
    "contacts": (ContactFactory, "title"),
    "accounts": (AccountFactory, "industry"),
    "opportunities": (OpportunityFactory, "competition"),
}


@pytest.fixture(params=list(RECORDS))
def record(request):
    factory, field = RECORDS[request.param]
    return f"/api/v1/{request.param}/{factory().pk}/", field


def test_an_edit_with_the_etag_read_goes_through_and_answers_the_new_one(api, ops, record):
    url, field = record
    client = api.as_user(ops)
    etag = client.get(url)["ETag"]

    response = client.patch(url, {field: "First edit"}, format="json", HTTP_IF_MATCH=etag)

    assert response.status_code == 200, response.content
    assert response["ETag"] != etag and client.get(url)["ETag"] == response["ETag"]


def test_an_edit_with_a_stale_etag_is_409_with_the_current_record_and_writes_nothing(api, ops, record):
    url, field = record
    client = api.as_user(ops)
    stale = client.get(url)["ETag"]
    client.patch(url, {field: "A colleague's edit"}, format="json")  # someone else, meanwhile
    history = FieldChange.objects.count()

    response = client.patch(url, {field: "My edit"}, format="json", HTTP_IF_MATCH=stale)

    assert response.status_code == 409
    assert response.json()["current"][field] == "A colleague's edit"
    assert response["ETag"] == client.get(url)["ETag"] != stale
    assert client.get(url).json()[field] == "A colleague's edit" and FieldChange.objects.count() == history


def test_if_match_star_and_no_if_match_edit_as_before(api, ops, record):
    url, field = record
    client = api.as_user(ops)
    assert client.patch(url, {field: "Any version"}, format="json", HTTP_IF_MATCH="*").status_code == 200
    assert client.patch(url, {field: "No header"}, format="json").status_code == 200
