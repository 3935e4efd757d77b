"""The pickers' lookups (/lookups/<kind>/?q=): what the user may pick that matches every
word, as buttons that fill a form's id field; the global search's rules and access."""

from __future__ import annotations

import pytest

from sdrcrm.models import Role
from tests.factories import AccountFactory, LeadFactory, OpportunityFactory, TeamFactory, UserFactory

pytestmark = pytest.mark.django_db


def choices(client, kind: str, **params) -> str:
    response = client.get(f"/lookups/{kind}/", params)
    assert response.status_code == 200
    return response.content.decode()


def test_accounts_are_picked_by_name_or_domain_anywhere_in_the_word(client, sdr):
    acme = AccountFactory(name="Acme Robotics", domain="acme-robotics.com")
    AccountFactory(name="Globex", domain="globex.io")
    client.force_login(sdr)

    found = choices(client, "accounts", account_id_search="robot")

    assert f'data-pick="{acme.pk}"' in found and 'data-pick-label="Acme Robotics"' in found
    assert "Globex" not in found
    assert f'data-pick="{acme.pk}"' in choices(client, "accounts", q="CME-ROB")


def test_a_lead_is_picked_only_where_the_user_may_change_it(client, sdr):
    mine = LeadFactory(owner=sdr, first_name="Rita", last_name="Reseller", company="Resell Co")
    theirs = LeadFactory(owner=UserFactory(role=Role.SDR, team=TeamFactory()), first_name="Rita", last_name="Other")
    client.force_login(sdr)

    found = choices(client, "leads", reseller_lead_search="rita")

    assert f'data-pick="{mine.pk}"' in found and f'data-pick="{theirs.pk}"' not in found


def test_opportunities_are_picked_within_what_the_user_sees(client, ae):
    mine = OpportunityFactory(name="Initech renewal", owner=ae)
    other = OpportunityFactory(name="Initech expansion", owner=UserFactory(role=Role.AE))
    client.force_login(ae)
    found = choices(client, "opportunities", merged_into_search="initech")
    assert f'data-pick="{mine.pk}"' in found and f'data-pick="{other.pk}"' not in found


def test_too_few_letters_or_no_match_say_so(client, sdr):
    client.force_login(sdr)
    assert "Type at least 3 letters" in choices(client, "accounts", q="ac")
    assert "Nothing you may pick matches “zzzqqq”." in choices(client, "accounts", q="zzzqqq")
    assert choices(client, "accounts").strip() == '<ul class="picker-choices">\n  \n</ul>'


def test_an_unknown_picker_is_404_and_a_visitor_is_sent_to_log_in(client, sdr):
    assert client.get("/lookups/accounts/", {"q": "acme"}).status_code == 302
    client.force_login(sdr)
    assert client.get("/lookups/users/", {"q": "acme"}).status_code == 404
