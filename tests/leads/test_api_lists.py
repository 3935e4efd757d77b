"""Lead lists through the API: keyset pagination visits every row exactly once whatever
the ordering (docs/rules.md §10), a page costs the same few queries however many rows there are
(docs/rules.md §11: ≤ 5 a request), and each SDR view holds exactly the SDR's own matching leads
(docs/rules.md §9)."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from leads.models import Lead, Status
from sdrcrm.models import Role
from tests.factories import AccountFactory, ContactFactory, LeadFactory, UserFactory
from tests.leads.conftest import LEADS, MAX_LIST_QUERIES

pytestmark = pytest.mark.django_db


def walk(client, url: str) -> tuple[list[int], int]:
    """Follow `next` links from `url` to the end: every id in order, and the page count."""
    ids: list[int] = []
    pages = 0
    while url is not None:
        response = client.get(url)
        assert response.status_code == 200, response.content
        body = response.json()
        ids += [row["id"] for row in body["results"]]
        url = body["next"]
        pages += 1
        assert pages < 100, "the next links never end"
    return ids, pages


def expected_order(ordering: str) -> list[int]:
    """Ids sorted by the field, then by id, in the requested direction (computed in
    Python, not by the code under test)."""
    field = ordering.removeprefix("-")
    rows = sorted(Lead.objects.values_list(field, "id"))
    if ordering.startswith("-"):
        rows.reverse()
    return [pk for _, pk in rows]


def make_ties(field: str) -> None:
    """23 leads whose `field` has only a few distinct values, so pages cut through ties."""
    LeadFactory.create_batch(23, owner=None)
    base = timezone.now() - timedelta(days=3)
    for i, lead in enumerate(Lead.objects.order_by("id")):
        values = {
            "score": 7,
            "last_name": ["adams", "brown", "clark"][i % 3],
            "created_at": base + timedelta(hours=i % 2),
            "updated_at": base + timedelta(minutes=i % 4),
            "status_changed_at": base,
        }
        Lead.objects.filter(pk=lead.pk).update(**{field: values[field]})


ORDERINGS = [
    "score", "-score", "last_name", "-last_name", "created_at", "-created_at",
    "updated_at", "-updated_at", "status_changed_at", "-status_changed_at",
]


@pytest.mark.parametrize("ordering", ORDERINGS)
def test_pages_visit_every_lead_once_in_order_despite_ties(api, ops, ordering):
    make_ties(ordering.removeprefix("-"))

    ids, pages = walk(api.as_user(ops), f"{LEADS}?ordering={ordering}&page_size=5")

    assert ids == expected_order(ordering)
    assert len(set(ids)) == Lead.objects.count() == 23
    assert pages == 5


def test_pages_visit_every_lead_once_when_scores_differ(api, ops):
    for score in [5, 1, 9, 1, 5, 5, 0, -3, 9, 2, 5]:
        LeadFactory(score=score)

    ids, _ = walk(api.as_user(ops), f"{LEADS}?ordering=-score&page_size=2")

    assert ids == expected_order("-score")


def test_the_last_page_has_no_next_link_when_the_rows_fill_the_pages_exactly(api, ops):
    LeadFactory.create_batch(10)
    client = api.as_user(ops)

    first = client.get(f"{LEADS}?page_size=5").json()
    second = client.get(first["next"]).json()

    assert len(second["results"]) == 5
    assert second["next"] is None


def test_a_single_page_has_no_next_link(api, ops):
    LeadFactory.create_batch(3)

    body = api.as_user(ops).get(LEADS).json()

    assert len(body["results"]) == 3
    assert body["next"] is None


def test_the_next_link_keeps_the_filters(api, sdr):
    mqls = LeadFactory.create_batch(5, owner=sdr, status=Status.MQL)
    LeadFactory.create_batch(5, owner=sdr, status=Status.INQUIRY)

    ids, pages = walk(api.as_user(sdr), f"{LEADS}?view=my_mqls&ordering=last_name&page_size=2")

    assert sorted(ids) == sorted(lead.pk for lead in mqls)
    assert pages == 3


def test_the_default_page_holds_50_leads(api, ops):
    LeadFactory.create_batch(51)

    body = api.as_user(ops).get(LEADS).json()

    assert len(body["results"]) == 50
    assert body["next"] is not None


# --- Query counts --------------------------------------------------------------------------------


@pytest.mark.parametrize("rows", [5, 60])
@pytest.mark.parametrize("user_fixture", ["sdr", "manager", "ops"])
def test_a_lead_list_page_takes_the_same_few_queries_for_5_or_60_leads(
    request, api, sdr, user_fixture, rows, django_assert_max_num_queries
):
    # Every relation the serializer shows is filled in, so a per-row lookup would show.
    account = AccountFactory()
    LeadFactory.create_batch(rows, owner=sdr, account=account, created_by=sdr)
    client = api.as_user(request.getfixturevalue(user_fixture))

    with django_assert_max_num_queries(MAX_LIST_QUERIES):
        response = client.get(LEADS)

    assert len(response.json()["results"]) == min(rows, 50)


@pytest.mark.parametrize("rows", [5, 60])
def test_a_filtered_deep_lead_page_takes_the_same_few_queries_for_5_or_60_leads(
    api, sdr, rows, django_assert_max_num_queries
):
    LeadFactory.create_batch(rows, owner=sdr, status=Status.MQL, account=AccountFactory())
    client = api.as_user(sdr)
    second_page = client.get(f"{LEADS}?view=my_mqls&ordering=score&page_size=2").json()["next"]

    with django_assert_max_num_queries(MAX_LIST_QUERIES):
        response = client.get(second_page)

    assert len(response.json()["results"]) == 2


@pytest.mark.parametrize("rows", [5, 60])
def test_a_contact_list_page_takes_the_same_few_queries_for_5_or_60_contacts(
    api, sdr, rows, django_assert_max_num_queries
):
    ContactFactory.create_batch(rows, owner=sdr, account=AccountFactory())
    client = api.as_user(sdr)

    with django_assert_max_num_queries(MAX_LIST_QUERIES):
        response = client.get("/api/v1/contacts/")

    assert len(response.json()["results"]) == min(rows, 50)


# --- The SDR views -----------------------------------------------------------------------------------

NOW = timezone.now()
EARLIER = NOW - timedelta(hours=1)
PHONE = "+1 415 555 0100"

# view key → (leads that belong in it, leads that narrowly do not)
VIEWS = {
    "my_mqls": (
        [{"status": Status.MQL}, {"status": Status.MQL, "high_priority": True}],
        [{"status": Status.INQUIRY}, {"status": Status.ACCEPTED}, {"status": Status.RECYCLE}],
    ),
    "high_priority": (
        [{"status": Status.MQL, "high_priority": True}],
        [{"status": Status.MQL, "high_priority": False}, {"status": Status.INQUIRY, "high_priority": True},
         {"status": Status.ACCEPTED, "high_priority": True}],
    ),
    "my_inquiries": (
        [{"status": Status.INQUIRY}],
        [{"status": Status.RAW}, {"status": Status.MQL}],
    ),
    "callable": (
        [{"status": status, "phone": PHONE}
         for status in (Status.INQUIRY, Status.MQL, Status.ACCEPTED, Status.QUALIFYING)],
        [{"status": Status.MQL, "phone": ""}, {"status": Status.RAW, "phone": PHONE},
         {"status": Status.RECYCLE, "phone": PHONE}, {"status": Status.UNQUALIFIED, "phone": PHONE}],
    ),
    "my_qualifying": (
        [{"status": Status.QUALIFYING}],
        [{"status": Status.ACCEPTED}, {"status": Status.QUALIFIED}],
    ),
    "new_lim": (
        [{"status": status, "status_changed_at": EARLIER, "last_interesting_moment_at": NOW}
         for status in (Status.MQL, Status.RECYCLE, Status.RAW)],
        [{"status": Status.MQL, "status_changed_at": NOW, "last_interesting_moment_at": NOW},
         {"status": Status.MQL, "status_changed_at": NOW, "last_interesting_moment_at": EARLIER},
         {"status": Status.MQL, "status_changed_at": EARLIER, "last_interesting_moment_at": None},
         {"status": Status.ACCEPTED, "status_changed_at": EARLIER, "last_interesting_moment_at": NOW}],
    ),
}


@pytest.mark.parametrize(("view", "matching", "near_misses"), [(key, *cases) for key, cases in VIEWS.items()],
                         ids=list(VIEWS))
def test_a_view_lists_exactly_the_sdrs_own_matching_leads(api, sdr, teammate, other_sdr, view, matching,
                                                          near_misses):
    own = [LeadFactory(owner=sdr, **fields) for fields in matching]
    for fields in near_misses:
        LeadFactory(owner=sdr, **fields)
    for fields in matching:  # matching, but someone else's (the teammate's are visible to the SDR)
        LeadFactory(owner=teammate, **fields)
        LeadFactory(owner=other_sdr, **fields)
        LeadFactory(owner=None, **fields)

    ids, _ = walk(api.as_user(sdr), f"{LEADS}?view={view}")

    assert sorted(ids) == sorted(lead.pk for lead in own)


def test_a_manager_picks_one_sdrs_view_with_owner(api, sdr, teammate, manager):
    theirs = LeadFactory(owner=sdr, status=Status.MQL)
    LeadFactory(owner=teammate, status=Status.MQL)

    ids, _ = walk(api.as_user(manager), f"{LEADS}?view=my_mqls&owner={sdr.pk}")

    assert ids == [theirs.pk]


def test_a_manager_sees_a_view_over_their_team(api, sdr, teammate, manager, other_sdr):
    team_mqls = [LeadFactory(owner=sdr, status=Status.MQL), LeadFactory(owner=teammate, status=Status.MQL)]
    LeadFactory(owner=other_sdr, status=Status.MQL)
    LeadFactory(owner=None, status=Status.MQL)

    ids, _ = walk(api.as_user(manager), f"{LEADS}?view=my_mqls&team={sdr.team_id}")

    assert sorted(ids) == sorted(lead.pk for lead in team_mqls)


def test_a_manager_cannot_widen_a_view_to_another_team(api, sdr, manager, other_sdr):
    LeadFactory(owner=other_sdr, status=Status.MQL)

    ids, _ = walk(api.as_user(manager), f"{LEADS}?view=my_mqls&team={other_sdr.team_id}")

    assert ids == []


def test_an_sdr_cannot_see_a_teammates_view_by_naming_them_as_owner(api, sdr, teammate):
    LeadFactory(owner=teammate, status=Status.MQL)
    own = LeadFactory(owner=sdr, status=Status.MQL)

    ids, _ = walk(api.as_user(sdr), f"{LEADS}?view=my_mqls&owner={teammate.pk}")

    # The view is always the SDR's own; naming the teammate narrows it to nothing.
    assert ids == []
    assert own.pk in walk(api.as_user(sdr), f"{LEADS}?view=my_mqls")[0]


def test_a_view_is_empty_for_a_user_who_owns_nothing(api, sdr):
    LeadFactory(owner=sdr, status=Status.MQL)
    newcomer = UserFactory(role=Role.SDR, team=sdr.team)

    ids, _ = walk(api.as_user(newcomer), f"{LEADS}?view=my_mqls")

    assert ids == []


@pytest.mark.django_db
@pytest.mark.parametrize(("ordering", "bound"), [("status_changed_at", ">="), ("-score", "<=")])
def test_a_later_page_starts_its_index_scan_at_the_cursor(api, sdr, ordering, bound):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    for _ in range(3):
        LeadFactory(owner=sdr)
    client = api.as_user(sdr)
    first = client.get(f"/api/v1/leads/?ordering={ordering}&page_size=2").json()
    with CaptureQueriesContext(connection) as queries:
        assert client.get(first["next"]).status_code == 200
    field = ordering.lstrip("-")
    page_sql = next(q["sql"] for q in queries.captured_queries if "ORDER BY" in q["sql"])
    assert f'"leads_lead"."{field}" {bound}' in page_sql
