"""Error pages inside the layout, and the layout's landmarks: a skip link, the main
navigation with the current section marked, the unread count in words."""

from __future__ import annotations

import pytest
from django.test import RequestFactory

from sdrcrm import notifications, views
from sdrcrm.models import Notification
from tests.factories import LeadFactory

pytestmark = pytest.mark.django_db


def test_a_missing_page_is_a_404_in_the_layout(client, sdr):
    client.force_login(sdr)
    response = client.get("/no-such-page/")

    page = response.content.decode()
    assert response.status_code == 404
    assert "<title>Not found · SDR CRM</title>" in page
    assert '<nav aria-label="Main"' in page and "Back to your work" in page


def test_another_teams_lead_is_the_same_404_page(client, sdr, other_sdr):
    lead = LeadFactory(owner=other_sdr)
    client.force_login(sdr)
    response = client.get(f"/leads/{lead.pk}/")
    assert response.status_code == 404
    assert "Records of another team are not shown, even by their id." in response.content.decode()


def test_a_server_error_is_a_500_page_in_the_layout_made_without_a_request_context():
    response = views.server_error(RequestFactory().get("/leads/"))
    page = response.content.decode()
    assert response.status_code == 500
    assert "<title>Something went wrong · SDR CRM</title>" in page and "it is logged" in page


def test_the_layout_has_a_skip_link_and_marks_the_current_section(client, sdr):
    client.force_login(sdr)
    page = client.get("/contacts/").content.decode()

    assert '<a class="skip" href="#main">Skip to content</a>' in page and '<main id="main">' in page
    assert '<a href="/contacts/" aria-current="page">Contacts</a>' in page
    assert '<a href="/leads/" aria-current' not in page


def test_the_unread_badge_says_unread_in_words(client, sdr):
    lead = LeadFactory(owner=sdr)
    notifications.notify([sdr.pk], Notification.Kind.SLA_BREACH, "SLA breached", lead=lead)
    client.force_login(sdr)
    page = client.get("/leads/").content.decode()
    assert '<span class="badge" title="unread">1<span class="sr-only"> unread</span></span>' in page


def test_the_sequences_page_marks_sequences_not_leads(client, sdr):
    client.force_login(sdr)
    page = client.get("/leads/sequences/").content.decode()
    assert '<a href="/leads/sequences/" aria-current="page">Sequences</a>' in page
    assert '<a href="/leads/" aria-current' not in page


def test_each_list_view_has_its_own_page_title(client, sdr):
    client.force_login(sdr)
    assert "<title>My MQLs (S1) · Leads · SDR CRM</title>" in client.get("/leads/?view=my_mqls").content.decode()
    assert "<title>Leads · SDR CRM</title>" in client.get("/leads/").content.decode()
    contacts = client.get("/contacts/?view=my_mql_contacts").content.decode()
    assert "<title>My MQL contacts · Contacts · SDR CRM</title>" in contacts
