"""Account tiers (docs/rules.md §5): five qualifiers, A for four or more down to F for none; pure
rules first, then the tier kept up to date by the account service through the API."""

from __future__ import annotations

import pytest

from leads import tiers
from leads.models import Account
from tests.factories import AccountFactory

NOTHING = {"using_ce": False, "it_employees": None, "industry": "", "tech_stack": "", "devops_adoption": False}
ALL = {"using_ce": True, "it_employees": 300, "industry": "Banking", "tech_stack": "Kubernetes",
       "devops_adoption": True}


# --- Qualifiers, one at a time ------------------------------------------------------------

def test_no_qualifier_met_gives_an_empty_list():
    assert tiers.qualifiers(**NOTHING) == []


@pytest.mark.parametrize("field, value, name", [
    ("using_ce", True, tiers.CE_USAGE),
    ("it_employees", 250, tiers.IT_EMPLOYEES),
    ("industry", "Financial Services", tiers.GOOD_FIT_INDUSTRY),
    ("tech_stack", "We deploy microservices", tiers.EARLY_ADOPTER),
    ("devops_adoption", True, tiers.DEVOPS_ADOPTION),
])
def test_each_qualifier_alone_is_the_only_one_met(field, value, name):
    assert tiers.qualifiers(**{**NOTHING, field: value}) == [name]


def test_all_five_qualifiers_are_named():
    assert tiers.qualifiers(**ALL) == [tiers.CE_USAGE, tiers.IT_EMPLOYEES, tiers.GOOD_FIT_INDUSTRY,
                                       tiers.EARLY_ADOPTER, tiers.DEVOPS_ADOPTION]


@pytest.mark.parametrize("count, met", [(None, False), (0, False), (249, False), (250, True), (10_000, True)])
def test_it_employees_qualify_from_250(count, met):
    assert (tiers.IT_EMPLOYEES in tiers.qualifiers(**{**NOTHING, "it_employees": count})) is met


# --- Tiers ---------------------------------------------------------------------------------

@pytest.mark.parametrize("count, tier", [(5, "A"), (4, "A"), (3, "B"), (2, "C"), (1, "D"), (0, "F")])
def test_tier_from_the_number_of_qualifiers(count, tier):
    assert tiers.tier(count) == tier


def test_a_negative_count_is_a_programming_error():
    with pytest.raises(ValueError):
        tiers.tier(-1)


# --- Good-fit industries --------------------------------------------------------------------

@pytest.mark.parametrize("industry", [
    "Computer Software", "technology", "Information Technology & Services", "BANKING", "Insurance",
    "Hospital & Health Care", "Pharmaceuticals", "Life Sciences", "Government Administration", "Utilities",
    "Oil & Energy", "Telecommunications", "High-growth startup",
])
def test_good_fit_industries_match_whole_words_in_any_case(industry):
    assert tiers.is_good_fit_industry(industry)


@pytest.mark.parametrize("industry", ["", "Retail", "Restaurants", "Bankruptcy law", "Biotechnologyish", "Education"])
def test_other_industries_do_not_qualify(industry):
    assert not tiers.is_good_fit_industry(industry)


# --- Early-adopter keywords -----------------------------------------------------------------

@pytest.mark.parametrize("stack, found", [
    ("Kubernetes", ["kubernetes"]),
    ("we run k8s", ["kubernetes"]),
    ("Docker containers", ["containers"]),
    ("a microservice", ["microservices"]),
    ("Multi-cloud (AWS, GCP)", ["multi-cloud"]),
    ("multicloud", ["multi-cloud"]),
    ("DevOps-driven", ["devops"]),
    ("DEVSECOPS", ["devsecops"]),
    ("DevOps and DevSecOps teams", ["devops", "devsecops"]),
    ("GitLab CI/CD", ["ci/cd"]),
    ("cicd", ["ci/cd"]),
    ("ci cd", ["ci/cd"]),
    ("SAST/DAST scanners", ["sast", "dast"]),
    ("a digital transformation programme", ["digital transformation"]),
])
def test_early_adopter_keywords_are_found_whole_word_and_in_any_case(stack, found):
    assert tiers.early_adopter_keywords(stack) == found


@pytest.mark.parametrize("stack", [
    "", "Java, Oracle", "disaster recovery", "dastardly", "Kubernetesque", "a specific cd player", "developers",
    "digital", "sastisfied",
])
def test_words_that_merely_contain_a_keyword_do_not_count(stack):
    assert tiers.early_adopter_keywords(stack) == []


def test_devsecops_is_not_also_counted_as_devops():
    assert tiers.early_adopter_keywords("DevSecOps") == ["devsecops"]


def test_many_keywords_are_still_one_qualifier():
    met = tiers.qualifiers(**{**NOTHING, "tech_stack": "Kubernetes, microservices, CI/CD, SAST, DevSecOps"})

    assert met == [tiers.EARLY_ADOPTER]
    assert tiers.tier(len(met)) == "D"


# --- The stored tier, through the API -------------------------------------------------------

ACCOUNTS = "/api/v1/accounts/"


def test_creating_an_account_stores_its_tier(api, ops):
    response = api.as_user(ops).post(ACCOUNTS, {
        "name": "Initech", "using_ce": True, "it_employees": 400, "industry": "Insurance",
        "tech_stack": "OpenShift, microservices",
    }, format="json")

    assert response.status_code == 201, response.content
    assert response.json()["tier"] == "A"
    assert Account.objects.get(pk=response.json()["id"]).tier == "A"


def test_a_new_account_without_qualifiers_is_tier_f(api, ops):
    response = api.as_user(ops).post(ACCOUNTS, {"name": "Corner Shop", "industry": "Retail"}, format="json")

    assert response.status_code == 201, response.content
    assert response.json()["tier"] == "F"


def test_updating_an_account_recomputes_its_tier(api, ops):
    account = AccountFactory(industry="Retail", tier="F")
    client = api.as_user(ops)

    first = client.patch(f"{ACCOUNTS}{account.pk}/", {"tech_stack": "Kubernetes", "devops_adoption": True},
                         format="json")
    assert first.status_code == 200, first.content
    assert first.json()["tier"] == "C"

    second = client.patch(f"{ACCOUNTS}{account.pk}/", {"it_employees": 251, "industry": "Healthcare"},
                          format="json")
    assert second.json()["tier"] == "A"

    third = client.patch(f"{ACCOUNTS}{account.pk}/", {"tech_stack": "", "devops_adoption": False,
                                                      "it_employees": None}, format="json")
    assert third.json()["tier"] == "D"
    account.refresh_from_db()
    assert account.tier == "D"


def test_an_edit_of_another_field_still_sets_the_tier(api, ops):
    account = AccountFactory(using_ce=True, devops_adoption=True, tier="")

    response = api.as_user(ops).patch(f"{ACCOUNTS}{account.pk}/", {"state": "CA"}, format="json")

    assert response.json()["tier"] == "C"


def test_the_tier_is_read_only_for_clients(api, ops):
    account = AccountFactory(industry="Retail", tier="F")

    response = api.as_user(ops).patch(f"{ACCOUNTS}{account.pk}/", {"tier": "A"}, format="json")

    assert response.status_code == 200
    account.refresh_from_db()
    assert account.tier == "F"


@pytest.mark.parametrize("body, field", [
    ({"it_employees": -1}, "it_employees"),
    ({"it_employees": "many"}, "it_employees"),
    ({"it_employees": 10**20}, "it_employees"),
    ({"devops_adoption": "perhaps"}, "devops_adoption"),
    ({"devops_adoption": [1]}, "devops_adoption"),
])
def test_bad_qualifier_values_are_a_400_naming_the_field(api, ops, body, field):
    account = AccountFactory()

    response = api.as_user(ops).patch(f"{ACCOUNTS}{account.pk}/", body, format="json")

    assert response.status_code == 400
    assert field in response.json()["errors"]
    assert response.json()["detail"]
