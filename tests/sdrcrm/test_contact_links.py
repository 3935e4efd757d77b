"""An SDR calls or mails a person with one tap: the phone is a `tel:` link on the lead and
contact lists (the Callable view is worked down the list) and on the lead's and the
contact's page, and the email a `mailto:` link (sdrcrm/templatetags/contact_links.py)."""

from __future__ import annotations

import pytest

from leads.models import Status
from sdrcrm.templatetags.contact_links import tel_uri
from tests.conftest import lead_page
from tests.factories import ContactFactory, LeadFactory

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize(("phone", "uri"), [
    ("+1 415 555 0199", "tel:+14155550199"),
    ("(415) 555-0199", "tel:4155550199"),
    ("+44 20 7946 0958 ext. 12", "tel:+442079460958;ext=12"),
    ("+49 30 1234567 x7", "tel:+49301234567;ext=7"),
    ("call the desk", ""),
    ("", ""),
])
def test_a_phone_number_becomes_a_tel_uri(phone, uri):
    assert tel_uri(phone) == uri


def test_the_callable_list_links_each_phone(client, sdr):
    LeadFactory(owner=sdr, status=Status.MQL, first_name="Cleo", phone="+1 415 555 0199")
    client.force_login(sdr)

    page = client.get("/leads/", {"view": "callable"}).content.decode()

    assert '<td class="phone nowrap"><a href="tel:+14155550199">+1 415 555 0199</a></td>' in page


def test_the_lead_and_contact_pages_link_phone_and_email(client, ops):
    lead = LeadFactory(email="cleo@initech.com", phone="+1 415 555 0199")
    bare = LeadFactory(email="bo@initech.com", phone="")
    contact = ContactFactory(email="cora@globex.com", phone="+44 20 7946 0958")
    client.force_login(ops)

    page = lead_page(client, lead)
    assert '<dt>Email</dt><dd><a href="mailto:cleo@initech.com">cleo@initech.com</a></dd>' in page
    assert '<dt>Phone</dt><dd><a href="tel:+14155550199">+1 415 555 0199</a></dd>' in page
    assert "<dt>Phone</dt><dd>—</dd>" in lead_page(client, bare)
    page = client.get(f"/contacts/{contact.pk}/").content.decode()
    assert '<a href="mailto:cora@globex.com">cora@globex.com</a>' in page
    assert '<a href="tel:+442079460958">+44 20 7946 0958</a>' in page


def test_the_contact_list_links_each_phone(client, ops):
    ContactFactory(email="cora@globex.com", phone="+44 20 7946 0958")
    client.force_login(ops)

    page = client.get("/contacts/").content.decode()

    assert '<td class="phone nowrap"><a href="tel:+442079460958">+44 20 7946 0958</a></td>' in page
