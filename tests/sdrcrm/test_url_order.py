"""The ingest's two routes are the first Django tries (sdrcrm/urls.py): it tries the routes
in order, each by its regex, and POST activities/ came after the thirty routes of a lead."""

from __future__ import annotations

from django.urls import get_resolver, resolve

from sdrcrm.urls import api_patterns, router


def test_the_ingest_routes_are_tried_first():
    api = get_resolver().url_patterns[0]
    assert str(api.pattern) == "api/v1/"
    assert [route.name for route in api.url_patterns[:4]] == ["lead-list"] * 2 + ["activity-list"] * 2
    assert resolve("/api/v1/activities/").url_name == "activity-list"
    assert resolve("/api/v1/leads/").url_name == "lead-list"


def test_every_route_of_the_router_is_there_once_in_its_order():
    routed = [route for route in api_patterns if route in router.urls]
    assert len(routed) == len(router.urls) and set(map(id, routed)) == set(map(id, router.urls))
    rest = [route for route in routed if route.name not in ("lead-list", "activity-list")]
    assert rest == [route for route in router.urls if route.name not in ("lead-list", "activity-list")]
