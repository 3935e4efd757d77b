"""What every API answer promises beyond one endpoint: JSON bodies in, JSON errors out
(404s included), and a schema that documents the errors and the values really returned.
Found by the schemathesis run (test_api_fuzz.py); each is pinned here directly."""

from __future__ import annotations

import pytest
from drf_spectacular.generators import SchemaGenerator

from tests.factories import SequenceFactory

pytestmark = pytest.mark.django_db


@pytest.fixture(scope="module")
def schema():
    return SchemaGenerator().get_schema(request=None, public=True)


def test_an_unknown_api_path_answers_json_and_a_page_path_html(client, api, ops):
    response = api.as_user(ops).get("/api/v1/accounts/0.5/target/")
    assert response.status_code == 404
    assert response["Content-Type"] == "application/json"
    assert "/api/v1/accounts/0.5/target/" in response.json()["detail"]
    page = client.get("/no-such-page/")
    assert page.status_code == 404 and page["Content-Type"].startswith("text/html")


def test_a_form_body_is_refused_with_415_not_read_as_strings(api, integration):
    response = api.as_user(integration).post("/api/v1/leads/bulk/", {"leads": "[null]"}, format="multipart")
    assert response.status_code == 415
    assert "multipart/form-data" in response.json()["detail"]


def test_a_blank_abm_tier_is_a_400_that_names_it(api, ops):
    response = api.as_user(ops).post("/api/v1/accounts/", {"name": "Acme", "abm_tier": ""})
    assert response.status_code == 400
    assert "abm_tier" in response.json()["errors"]


def test_a_sequence_nobody_is_in_counts_zero_not_null(api, sdr):
    SequenceFactory()
    (row,) = api.as_user(sdr).get("/api/v1/sequences/").json()["results"]
    assert row["active_enrollments"] == 0


def test_every_operation_documents_the_error_answers(schema):
    for path, operations in schema["paths"].items():
        for method, operation in operations.items():
            for code in ("400", "401", "403", "404", "429"):
                assert operation["responses"][code]["content"]["application/json"]["schema"] == {
                    "$ref": "#/components/schemas/Error"}, (method, path, code)
    assert schema["components"]["schemas"]["Error"]["required"] == ["detail"]


def test_read_only_text_choices_that_may_be_blank_allow_blank_in_the_schema(schema):
    components = schema["components"]["schemas"]
    for component, field in (("Lead", "region"), ("Account", "region"), ("ScoringRule", "condition"),
                             ("ScoringRule", "activity_type")):
        refs = [item.get("$ref", "") for item in components[component]["properties"][field].get("oneOf", [])]
        assert "#/components/schemas/BlankEnum" in refs, (component, field)
    # …but a number with choices takes no "" (it would reach its number validators).
    tier = components["Account"]["properties"]["abm_tier"]
    assert "#/components/schemas/BlankEnum" not in [item.get("$ref", "") for item in tier.get("oneOf", [])]


def test_a_lead_without_an_account_or_an_activity_without_a_contact_is_null_in_the_schema(schema):
    components = schema["components"]["schemas"]
    assert components["Lead"]["properties"]["matched_account"]["nullable"] is True
    assert components["Activity"]["properties"]["contact"]["nullable"] is True
