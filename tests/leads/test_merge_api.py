"""The merge endpoints (docs/rules.md §10): `leads/{id}/duplicates/`, `leads/{id}/merge/`,
`leads/{id}/merges/` and `leads/{id}/merges/{tombstone_id}/undo/`: what they answer,
who may call them, and 4xx (never 500) for bad input."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from leads.merge import merge_leads
from leads.models import Activity, InitialSource, Lead, Status, Tombstone
from tests.factories import ActivityFactory, ContactFactory, LeadFactory
from tests.leads.conftest import LEADS

pytestmark = pytest.mark.django_db


def pair(survivor_owner, **other_fields) -> tuple[Lead, Lead]:
    """A lead and an older duplicate at the same company domain with the same last name
    (owned by the same person unless `other_fields` names another owner)."""
    keep = LeadFactory(owner=survivor_owner, email="jane.doe@initech.com", last_name="Doe",
                       initial_source=InitialSource.WEBCAST)
    gone = LeadFactory(**{"owner": survivor_owner, "email": "jd@initech.com", "last_name": "Doe",
                          "initial_source": InitialSource.TRIAL_SAAS, **other_fields})
    Lead.objects.filter(pk=gone.pk).update(created_at=timezone.now() - timedelta(days=30))
    return keep, gone


# --- duplicates/ --------------------------------------------------------------------------------

def test_duplicates_are_listed_with_their_kind(api, sdr):
    keep, gone = pair(sdr)
    contact = ContactFactory(owner=sdr, email=keep.email)

    response = api.as_user(sdr).get(f"{LEADS}{keep.pk}/duplicates/")

    assert response.status_code == 200
    rows = {(row["record"], row["id"]): row for row in response.json()}
    assert set(rows) == {("lead", gone.pk), ("contact", contact.pk)}
    assert rows[("lead", gone.pk)]["kind"] == "domain_last_name"
    assert rows[("lead", gone.pk)]["label"] == "Same company domain and last name"
    assert rows[("contact", contact.pk)]["kind"] == "contact_email"
    assert rows[("lead", gone.pk)]["email"] == "jd@initech.com"


def test_duplicates_of_another_sdrs_lead_are_a_404(api, sdr, other_sdr):
    keep, _ = pair(other_sdr)

    assert api.as_user(sdr).get(f"{LEADS}{keep.pk}/duplicates/").status_code == 404


def test_duplicates_cost_the_same_queries_however_many(api, sdr, django_assert_max_num_queries):
    keep, _ = pair(sdr)
    client = api.as_user(sdr)
    client.get(f"{LEADS}{keep.pk}/duplicates/")
    for i in range(15):
        LeadFactory(owner=sdr, email=f"doe{i}@initech.com", last_name="Doe")
        ContactFactory(owner=sdr, email=keep.email)

    with django_assert_max_num_queries(6):
        response = client.get(f"{LEADS}{keep.pk}/duplicates/")

    assert len(response.json()) == 31


# --- merge/ -------------------------------------------------------------------------------------

def test_merge_answers_the_survivor_as_it_is_after_the_merge(api, sdr):
    keep, gone = pair(sdr, phone="+1 555 0100")
    ActivityFactory(lead=gone)

    response = api.as_user(sdr).post(f"{LEADS}{keep.pk}/merge/", {"duplicate": gone.pk}, format="json")

    assert response.status_code == 200, response.content
    body = response.json()
    assert (body["id"], body["owner"], body["initial_source"], body["phone"]) == (
        keep.pk, sdr.pk, InitialSource.TRIAL_SAAS, "+1 555 0100")
    assert not Lead.objects.filter(pk=gone.pk).exists()
    assert Activity.objects.filter(lead=keep).count() == 1


def test_a_manager_merges_their_teams_leads(api, sdr, teammate, manager):
    keep, gone = pair(sdr, owner=teammate)

    response = api.as_user(manager).post(f"{LEADS}{keep.pk}/merge/", {"duplicate": gone.pk}, format="json")

    assert response.status_code == 200, response.content
    assert Lead.objects.get(pk=keep.pk).owner == sdr
    assert not Lead.objects.filter(pk=gone.pk).exists()


@pytest.mark.parametrize("body", [
    {}, {"duplicate": None}, {"duplicate": "abc"}, {"duplicate": [1]}, {"duplicate": {"id": 1}},
    {"duplicate": 0}, {"duplicate": -5}, {"duplicate": 10**20}, {"duplicate": 1.5}, {"duplicate": True},
])
def test_a_bad_duplicate_is_a_400_naming_the_field(api, sdr, body):
    keep, gone = pair(sdr)

    response = api.as_user(sdr).post(f"{LEADS}{keep.pk}/merge/", body, format="json")

    assert response.status_code == 400
    assert "duplicate" in response.json()["errors"]
    assert response.json()["detail"]
    assert Lead.objects.filter(pk=gone.pk).exists()


def test_a_body_that_is_not_an_object_is_a_400(api, sdr):
    keep, _ = pair(sdr)

    response = api.as_user(sdr).post(f"{LEADS}{keep.pk}/merge/", "[1, 2]", content_type="application/json")

    assert response.status_code == 400


def test_an_unknown_duplicate_is_a_400_naming_the_field(api, sdr):
    keep, _ = pair(sdr)
    missing = Lead.objects.order_by("-pk").first().pk + 1000

    response = api.as_user(sdr).post(f"{LEADS}{keep.pk}/merge/", {"duplicate": missing}, format="json")

    assert response.status_code == 400
    assert response.json()["errors"] == {"duplicate": [f"No lead with id {missing}."]}


def test_another_sdrs_lead_as_the_duplicate_is_a_400_like_an_unknown_id(api, sdr, other_sdr):
    keep, _ = pair(sdr)
    theirs = LeadFactory(owner=other_sdr, email="doe@initech.com", last_name="Doe")

    response = api.as_user(sdr).post(f"{LEADS}{keep.pk}/merge/", {"duplicate": theirs.pk}, format="json")

    assert response.status_code == 400
    assert response.json()["errors"] == {"duplicate": [f"No lead with id {theirs.pk}."]}
    assert Lead.objects.filter(pk=theirs.pk).exists()


def test_a_duplicate_the_user_may_only_read_is_a_400_naming_the_field(api, sdr, teammate):
    keep, gone = pair(sdr, owner=teammate)

    response = api.as_user(sdr).post(f"{LEADS}{keep.pk}/merge/", {"duplicate": gone.pk}, format="json")

    assert response.status_code == 400
    assert list(response.json()["errors"]) == ["duplicate"]
    assert Lead.objects.filter(pk=gone.pk).exists()


def test_merging_into_another_sdrs_lead_is_a_404(api, sdr, other_sdr):
    keep, gone = pair(other_sdr)

    response = api.as_user(sdr).post(f"{LEADS}{keep.pk}/merge/", {"duplicate": gone.pk}, format="json")

    assert response.status_code == 404
    assert Lead.objects.filter(pk=gone.pk).exists()


def test_merging_into_a_lead_the_user_may_only_read_is_a_403(api, sdr, teammate):
    keep, gone = pair(teammate, owner=sdr)

    response = api.as_user(sdr).post(f"{LEADS}{keep.pk}/merge/", {"duplicate": gone.pk}, format="json")

    assert response.status_code == 403
    assert Lead.objects.filter(pk=gone.pk).exists()


def test_merging_a_lead_with_itself_is_a_400(api, sdr):
    keep, _ = pair(sdr)

    response = api.as_user(sdr).post(f"{LEADS}{keep.pk}/merge/", {"duplicate": keep.pk}, format="json")

    assert response.status_code == 400
    assert response.json()["detail"] == "A lead cannot be merged with itself."


def test_merging_a_converted_lead_is_a_400(api, sdr):
    keep, gone = pair(sdr, status=Status.QUALIFIED, converted_to=ContactFactory(owner=sdr))

    response = api.as_user(sdr).post(f"{LEADS}{keep.pk}/merge/", {"duplicate": gone.pk}, format="json")

    assert response.status_code == 400
    assert "converted" in response.json()["errors"]["duplicate"][0]


def test_merge_on_a_huge_lead_id_is_a_404(api, sdr):
    response = api.as_user(sdr).post(f"{LEADS}{10**20}/merge/", {"duplicate": 1}, format="json")

    assert response.status_code == 404


# --- merges/ ------------------------------------------------------------------------------------

def merge_many(owner, keep: Lead, count: int) -> list[Tombstone]:
    tombstones = []
    for i in range(count):
        gone = LeadFactory(owner=owner, email=f"dup{i}@initech.com", last_name="Doe")
        tombstones.append(merge_leads(keep, gone, by=owner, now=timezone.now() + timedelta(minutes=i)))
    return tombstones


def test_merges_lists_the_leads_merged_into_this_one_newest_first(api, sdr):
    keep, gone = pair(sdr)
    first = merge_leads(keep, gone, by=sdr, now=timezone.now())
    [second] = merge_many(sdr, keep, 1)

    response = api.as_user(sdr).get(f"{LEADS}{keep.pk}/merges/")

    assert response.status_code == 200
    results = response.json()["results"]
    assert [row["id"] for row in results] == [second.pk, first.pk]
    assert results[1]["merged_lead"]["email"] == "jd@initech.com"
    assert (results[1]["original_id"], results[1]["merged_into_id"], results[1]["marked_by"]) == (
        gone.pk, keep.pk, sdr.username)
    assert results[1]["undone_at"] is None


def test_merges_are_paginated_by_cursor_with_the_same_queries_per_page(api, sdr, django_assert_max_num_queries):
    keep, _ = pair(sdr)
    tombstones = merge_many(sdr, keep, 7)
    client = api.as_user(sdr)
    seen, url = [], f"{LEADS}{keep.pk}/merges/?page_size=3"
    while url:
        with django_assert_max_num_queries(4):
            body = client.get(url).json()
        seen += [row["id"] for row in body["results"]]
        url = body["next"]

    assert seen == [t.pk for t in reversed(tombstones)]


@pytest.mark.parametrize("query", ["page_size=0", "page_size=abc", "page_size=1000", "cursor=%%%", "cursor=bm9wZQ"])
def test_bad_merges_paging_is_a_400(api, sdr, query):
    keep, _ = pair(sdr)

    response = api.as_user(sdr).get(f"{LEADS}{keep.pk}/merges/?{query}")

    assert response.status_code == 400
    assert response.json()["detail"]


def test_merges_of_another_sdrs_lead_are_a_404(api, sdr, other_sdr):
    keep, _ = pair(other_sdr)

    assert api.as_user(sdr).get(f"{LEADS}{keep.pk}/merges/").status_code == 404


# --- undo/ ----------------------------------------------------------------------------------------

def undo_url(lead: Lead, tombstone: Tombstone | int) -> str:
    pk = tombstone if isinstance(tombstone, int) else tombstone.pk
    return f"{LEADS}{lead.pk}/merges/{pk}/undo/"


def test_ops_undo_a_merge_and_get_the_lead_back(api, sdr, ops):
    keep, gone = pair(sdr)
    tombstone = merge_leads(keep, gone, by=sdr)

    response = api.as_user(ops).post(undo_url(keep, tombstone))

    assert response.status_code == 200, response.content
    assert (response.json()["id"], response.json()["email"]) == (gone.pk, "jd@initech.com")
    assert Lead.objects.get(pk=keep.pk).initial_source == InitialSource.WEBCAST
    merges = api.as_user(ops).get(f"{LEADS}{keep.pk}/merges/").json()["results"]
    assert merges[0]["undone_by"] == ops.username


def test_undo_by_anyone_but_ops_is_a_403(api, sdr, manager):
    keep, gone = pair(sdr)
    tombstone = merge_leads(keep, gone, by=sdr)

    for user in (sdr, manager):
        response = api.as_user(user).post(undo_url(keep, tombstone))
        assert response.status_code == 403
        assert response.json()["detail"] == "Only Sales-Dev Ops may undo a merge."
    assert not Lead.objects.filter(pk=gone.pk).exists()


def test_undo_twice_is_a_400(api, sdr, ops):
    keep, gone = pair(sdr)
    tombstone = merge_leads(keep, gone, by=sdr)
    client = api.as_user(ops)
    client.post(undo_url(keep, tombstone))

    response = client.post(undo_url(keep, tombstone))

    assert response.status_code == 400
    assert "undone already" in response.json()["detail"]


def test_undo_when_the_email_is_taken_is_a_400_saying_so(api, sdr, ops):
    keep, gone = pair(sdr)
    tombstone = merge_leads(keep, gone, by=sdr)
    LeadFactory(email="jd@initech.com")

    response = api.as_user(ops).post(undo_url(keep, tombstone))

    assert response.status_code == 400
    assert response.json()["errors"] == {"email": [response.json()["detail"]]}
    assert "jd@initech.com" in response.json()["detail"]


@pytest.mark.parametrize("tombstone_id", [10**6, 10**20])
def test_undo_of_an_unknown_merge_is_a_404(api, sdr, ops, tombstone_id):
    keep, _ = pair(sdr)

    assert api.as_user(ops).post(undo_url(keep, tombstone_id)).status_code == 404


def test_undo_through_another_lead_is_a_404(api, sdr, ops):
    keep, gone = pair(sdr)
    tombstone = merge_leads(keep, gone, by=sdr)
    elsewhere = LeadFactory(owner=sdr)

    assert api.as_user(ops).post(undo_url(elsewhere, tombstone)).status_code == 404
    assert not Lead.objects.filter(pk=gone.pk).exists()


def test_a_spam_tombstone_cannot_be_undone(api, sdr, ops):
    keep, _ = pair(sdr)
    spam = Tombstone.objects.create(kind=Tombstone.Kind.SPAM, original_id=99, email_hash="x", merged_into_id=keep.pk,
                                    deleted_at=timezone.now())

    assert api.as_user(ops).post(undo_url(keep, spam)).status_code == 404


def test_undo_on_another_sdrs_lead_is_a_404_before_anything_else(api, sdr, other_sdr):
    keep, gone = pair(other_sdr)
    tombstone = merge_leads(keep, gone, by=other_sdr)

    assert api.as_user(sdr).post(undo_url(keep, tombstone)).status_code == 404
