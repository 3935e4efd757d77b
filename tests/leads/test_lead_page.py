from __future__ import annotations

import pytest

from leads import services
from leads.models import Lead
from routing.models import Territory
from sdrcrm.models import Role
from tests.factories import LeadFactory, TeamFactory, UserFactory

pytestmark = pytest.mark.django_db


def test_the_lead_page_shows_the_score_breakdown_and_the_routing_reason(client):
    sdr = UserFactory(role=Role.SDR)
    Territory.objects.create(name="AMER East", region="amer", sdr=sdr)
    lead = services.ingest_lead({"email": "d@acme.com", "last_name": "Doe", "initial_source": "webcast",
                                 "title": "Director", "country": "US"}, by=None).lead
    client.force_login(sdr)

    page = client.get(f"/leads/{lead.pk}/").content.decode()

    assert "Score: 55" in page
    assert "Senior title (VP, Director, Manager, Head, Senior)" in page and "+50" in page
    assert "Territory AMER East" in page and "rule set v1" in page


def test_the_lead_page_of_another_teams_lead_is_not_found(client):
    owner = UserFactory(role=Role.SDR)
    lead = services.ingest_lead({"email": "d@acme.com", "last_name": "Doe", "initial_source": "webcast",
                                 "owner": owner}, by=owner).lead
    client.force_login(UserFactory(role=Role.SDR))
    assert client.get(f"/leads/{lead.pk}/").status_code == 404


def test_an_unrouted_lead_says_where_routing_starts_from_the_setting(client, settings):
    settings.ROUTING_THRESHOLD = 60
    ops = UserFactory(role=Role.OPS)
    lead = services.ingest_lead({"email": "low@acme.com", "last_name": "Low", "initial_source": "webcast"},
                                by=None).lead
    client.force_login(ops)

    page = client.get(f"/leads/{lead.pk}/").content.decode()

    assert "routing starts at 60 points" in page


def test_a_teammate_who_may_only_read_cannot_change_the_status_from_the_page(client, sdr, teammate):
    lead = LeadFactory(owner=sdr, status="mql")
    client.force_login(teammate)

    response = client.post(f"/leads/{lead.pk}/status/", {"status": "accepted"}, follow=True)

    assert "You may read this lead but not change it." in response.content.decode()
    assert Lead.objects.get(pk=lead.pk).status == "mql"


def test_a_teammates_lead_reads_but_offers_no_status_form(client):
    team = TeamFactory()
    owner, reader = UserFactory(role=Role.SDR, team=team), UserFactory(role=Role.SDR, team=team)
    lead = LeadFactory(owner=owner, status="mql")
    client.force_login(reader)
    page = client.get(f"/leads/{lead.pk}/").content.decode()
    assert "You can read this lead but not change it." in page
    assert f'action="/leads/{lead.pk}/status/"' not in page
    client.force_login(owner)
    assert f'action="/leads/{lead.pk}/status/"' in client.get(f"/leads/{lead.pk}/").content.decode()
