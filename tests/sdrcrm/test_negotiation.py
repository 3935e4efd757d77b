"""The API's content negotiation (sdrcrm/api/negotiation.py) chooses what DRF's own would,
and answers a plain JSON request without DRF's parsing."""

from __future__ import annotations

import pytest
from rest_framework.negotiation import DefaultContentNegotiation
from rest_framework.request import Request
from rest_framework.test import APIRequestFactory

from leads.api.leads import LeadViewSet
from sdrcrm.api.negotiation import JsonFirstNegotiation

ACCEPTS = ["", "*/*", "application/json", "text/html", "text/html,application/xhtml+xml,*/*;q=0.8",
           "application/json; indent=4", "application/xml", "text/*"]


def request_with(accept: str, query: str = "") -> Request:
    headers = {"HTTP_ACCEPT": accept} if accept else {}
    return Request(APIRequestFactory().get(f"/api/v1/leads/{query}", **headers))


def choice(negotiation, request, renderers):
    try:
        renderer, media_type = negotiation.select_renderer(request, renderers)
    except Exception as refused:  # noqa: BLE001 (the same refusal is what is compared)
        return type(refused).__name__
    return type(renderer).__name__, media_type


@pytest.mark.parametrize("accept", ACCEPTS)
@pytest.mark.parametrize("query", ["", "?format=api", "?format=json", "?format=", "?page=2&view=my_mqls", "?"])
def test_it_chooses_what_drfs_negotiation_chooses(accept, query):
    renderers = [renderer() for renderer in LeadViewSet.renderer_classes]
    assert len(renderers) > 1  # JSON and the browsable API: a choice to make
    assert (choice(JsonFirstNegotiation(), request_with(accept, query), renderers)
            == choice(DefaultContentNegotiation(), request_with(accept, query), renderers))


def test_a_plain_json_request_skips_drfs_parsing(monkeypatch):
    def parsed(*args):
        raise AssertionError("DRF's negotiation ran")

    monkeypatch.setattr(DefaultContentNegotiation, "select_renderer", parsed)
    renderers = [renderer() for renderer in LeadViewSet.renderer_classes]
    for accept in ("", "*/*", "application/json"):
        assert choice(JsonFirstNegotiation(), request_with(accept), renderers)[1] == "application/json"
    with pytest.raises(AssertionError):
        JsonFirstNegotiation().select_renderer(request_with("text/html"), renderers)


def test_a_request_without_a_query_string_does_not_build_its_query_dict():
    renderers = [renderer() for renderer in LeadViewSet.renderer_classes]
    request = request_with("application/json")
    assert choice(JsonFirstNegotiation(), request, renderers)[1] == "application/json"
    assert "GET" not in request._request.__dict__  # Django's cached request.GET, never made


def test_the_api_uses_it(settings):
    assert LeadViewSet().get_content_negotiator().__class__ is JsonFirstNegotiation
