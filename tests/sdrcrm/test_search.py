"""Global search: substring, every word, any order, only what the user may see, and on
PostgreSQL by the trigram indexes (sdrcrm/search.py)."""

from __future__ import annotations

import pytest
from django.db import connection

from leads.models import Status
from sdrcrm import search
from sdrcrm.errors import Refused
from sdrcrm.models import Role
from tests.conftest import on_postgres, require
from tests.factories import AccountFactory, ContactFactory, LeadFactory, OpportunityFactory, UserFactory

pytestmark = pytest.mark.django_db


def found(user, term: str) -> dict[str, list[int]]:
    return {kind: [record.pk for record in rows] for kind, rows in search.search(user, term).found.items() if rows}


@pytest.fixture
def sofia(sdr):
    return LeadFactory(owner=sdr, first_name="Sofia", last_name="Santos", email="sofia.santos@initech.com",
                       company="Initech", phone="+1 415 555 0199")


@pytest.mark.parametrize("term", ["Sofia Santos", "santos sofia", "antos", "santos@", "nitech", "555 019",
                                  "SOFIA initech"])
def test_a_lead_is_found_by_any_part_of_its_name_email_company_or_phone(sdr, sofia, term):
    LeadFactory(owner=sdr, first_name="Sofia", last_name="Other", email="so@other.com")
    assert found(sdr, term) == {"leads": [sofia.pk]}


def test_every_word_must_match(sdr, sofia):
    assert found(sdr, "sofia nobody") == {}


def test_contacts_accounts_and_opportunities_are_found_too(sdr):
    account = AccountFactory(name="Globex Corporation", domain="globex.com", owner=sdr)
    contact = ContactFactory(owner=sdr, first_name="Hank", last_name="Scorpio", email="hank@globex.com",
                             account=account)
    opportunity = OpportunityFactory(name="Globex - New business", account=account, sdr=sdr)

    assert found(sdr, "globex") == {"contacts": [contact.pk], "accounts": [account.pk],
                                    "opportunities": [opportunity.pk]}


def test_records_the_user_may_not_see_are_not_found(sdr, other_sdr, sofia):
    assert found(other_sdr, "sofia santos") == {}
    ae = UserFactory(role=Role.AE)
    AccountFactory(name="Initech Holdings", owner=UserFactory(role=Role.AE))
    assert found(ae, "initech") == {}  # an AE reads only the accounts they own


@pytest.mark.parametrize("term", ["ab", "a b c", "ab cd", "  "])
def test_a_term_without_a_word_of_three_letters_is_refused(sdr, term):
    with pytest.raises(Refused, match="Type at least 3 letters"):
        search.search(sdr, term)


def test_a_search_takes_a_fixed_number_of_queries_however_many_match(sdr, django_assert_num_queries):
    for n in range(30):
        lead = LeadFactory(owner=sdr, company="Initech", status=Status.MQL)
        ContactFactory(owner=sdr, company="Initech", email=f"c{n}@initech.com")
        AccountFactory(name=f"Initech {n}")
        OpportunityFactory(name=f"Initech {n}", sdr=sdr, lead=lead)
    # The recent walk of leads (ten found), one probe of the other three types, the rows of each.
    with django_assert_num_queries(1 + 1 + 4):
        results = search.search(sdr, "initech")
        # What the page and the API show is read with the rows:
        [getattr(row.owner, "username", "") for rows in results.found.values() for row in rows]
        [(p.full_name, p.email, p.company, p.get_status_display()) for kind in ("leads", "contacts")
         for p in results.found[kind]]
        [(lead.queue, contact.account)
         for lead, contact in zip(results.found["leads"], results.found["contacts"], strict=True)]
        [(a.name, a.domain, a.get_type_display()) for a in results.found["accounts"]]
        [(o.name, o.account.name, o.get_stage_display()) for o in results.found["opportunities"]]
    assert {kind: len(rows) for kind, rows in results.found.items()} == {
        "leads": 10, "contacts": 10, "accounts": 10, "opportunities": 10}
    with django_assert_num_queries(1 + 1):  # nothing found: the recent walk, one probe of all four types
        search.search(sdr, "zzqxv")
    with django_assert_num_queries(1 + 4):  # several words match few: one probe first, the rows
        search.search(sdr, "initech 1")


@pytest.mark.parametrize("recent", [3, 5000])
def test_a_common_word_still_gives_the_newest_matches(sdr, monkeypatch, recent):
    # More matches than the probe reads by the index: the newest come by walking the ids,
    # among the recent rows (recent=5000) or, when those hold fewer than ten, all of them.
    monkeypatch.setattr(search, "PROBE", 5)
    monkeypatch.setattr(search, "RECENT", recent)
    leads = [LeadFactory(owner=sdr, company="Initech") for _ in range(15)]
    for _ in range(3):
        LeadFactory(owner=sdr, company="Globex")  # the newest leads, but no match
    assert [lead.pk for lead in search.search(sdr, "initech").found["leads"]] == [
        lead.pk for lead in reversed(leads)][:10]


def test_the_recent_walk_leaves_out_what_the_user_may_not_see(sdr, other_sdr):
    mine = [LeadFactory(owner=sdr, company="Initech") for _ in range(3)]
    LeadFactory.create_batch(12, owner=other_sdr, company="Initech")  # newer, another team's
    assert [lead.pk for lead in search.search(sdr, "initech").found["leads"]] == [lead.pk for lead in reversed(mine)]
    assert len(search.search(other_sdr, "initech").found["leads"]) == 10


@pytest.mark.parametrize("walked", [False, True])
@pytest.mark.parametrize("term", ["100%", "a_b", "x\\y"])
def test_like_wildcards_typed_are_plain_letters(sdr, term, walked, monkeypatch):
    if walked:  # the recent walk's own LIKE (a term of letters only, otherwise) must escape them too
        monkeypatch.setattr(search, "may_be_common", lambda words: True)
    monkeypatch.setattr(search, "SHOWN", 1)  # the newest match only: the walk's answer stands
    wanted = LeadFactory(owner=sdr, company=f"Literally {term}")
    LeadFactory(owner=sdr, company="Percent 100 and axb xay xy")  # newer; matches if % _ \ were wildcards
    assert found(sdr, term) == {"leads": [wanted.pk]}


def test_a_rare_word_gives_its_matches_newest_first(sdr):
    leads = [LeadFactory(owner=sdr, company="Initech") for _ in range(3)]
    LeadFactory(owner=sdr, company="Globex")
    assert [lead.pk for lead in search.search(sdr, "initech").found["leads"]] == [lead.pk for lead in reversed(leads)]


def test_on_postgres_the_search_uses_the_trigram_indexes(sdr, sofia):
    require(on_postgres(), "CI must check the trigram indexes on PostgreSQL", "trigram indexes are PostgreSQL's")
    with connection.cursor() as cursor:
        cursor.execute("SET LOCAL enable_seqscan = off")  # a tiny test table would be scanned otherwise
    for model, index in ((search.LeadSearch, "lead_search_text_trgm"), (search.Contact, "contact_search_trgm"),
                         (search.Account, "account_search_trgm"), (search.Opportunity, "opportunity_search_trgm")):
        plan = search.matching(model.objects.all(), ["SANTOS"]).explain()
        assert index in plan, plan


def test_the_search_page_lists_what_is_found_with_links(client, sdr, sofia):
    client.force_login(sdr)
    page = client.get("/search/", {"q": "sofia santos"}).content.decode()
    assert "<title>“sofia santos” · Search · SDR CRM</title>" in page
    assert f'<a href="/leads/{sofia.pk}/">Sofia Santos</a>' in page
    assert 'id="found-contacts"' not in page


def test_the_search_page_says_why_a_term_is_refused_and_when_nothing_matches(client, sdr):
    client.force_login(sdr)
    assert "Type at least 3 letters of a name" in client.get("/search/", {"q": "ab"}).content.decode()
    assert "Nothing you may see matches “zzzqqq”." in client.get("/search/", {"q": "zzzqqq"}).content.decode()


def test_every_page_has_the_search_box(client, sdr):
    client.force_login(sdr)
    page = client.get("/leads/").content.decode()
    assert '<form method="get" action="/search/" role="search" class="header-search">' in page


def test_the_api_answers_what_the_page_finds(api, sdr, sofia):
    response = api.as_user(sdr).get("/api/v1/search/", {"q": "sofia sant"})
    assert response.status_code == 200
    assert response.json() == {
        "leads": [{"id": sofia.pk, "full_name": "Sofia Santos", "email": "sofia.santos@initech.com",
                   "company": "Initech", "status": sofia.status}],
        "contacts": [], "accounts": [], "opportunities": []}


@pytest.mark.parametrize(("params", "message"), [
    ({}, "This field is required."),
    ({"q": "ab"}, "Type at least 3 letters of a name, email, phone, company or domain."),
    ({"q": "x" * 101}, "Ensure this field has no more than 100 characters."),
])
def test_the_api_refuses_a_bad_term_with_a_400_naming_q(api, sdr, params, message):
    response = api.as_user(sdr).get("/api/v1/search/", params)
    assert response.status_code == 400
    assert message in str(response.json()["errors"]["q"])


def test_an_integration_finds_only_what_it_created(api, integration, sofia):
    assert api.as_user(integration).get("/api/v1/search/", {"q": "sofia"}).json()["leads"] == []
