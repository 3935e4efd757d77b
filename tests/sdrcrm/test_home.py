"""Each role lands on its own page."""

from __future__ import annotations

import pytest

from sdrcrm.models import Role
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize(("role", "page"), [
    (Role.SDR, "/leads/today/"),
    (Role.BDR, "/leads/today/"),
    (Role.SAL, "/opportunities/?mine=on"),
    (Role.AE, "/opportunities/?mine=on"),
    (Role.SDR_MANAGER, "/leads/queues/"),
    (Role.OPS, "/jobs/"),
])
def test_each_role_starts_on_its_own_page(client, role, page):
    client.force_login(UserFactory(role=role))
    response = client.get("/")
    assert (response.status_code, response["Location"]) == (302, page)
    assert client.get(page).status_code == 200


def test_a_visitor_is_sent_to_log_in(client):
    response = client.get("/", follow=True)
    assert response.redirect_chain[-1][0].startswith("/login/")
