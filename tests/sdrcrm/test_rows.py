"""sdrcrm.rows.fetch: hand-written SQL, values as the ORM gives them, on either database."""

from __future__ import annotations

import pytest

from leads.models import Activity
from routing import facts
from sdrcrm import rows
from tests.factories import ActivityFactory, LeadFactory, UserFactory

pytestmark = pytest.mark.django_db


def test_values_come_back_as_a_values_list_gives_them():
    activity = ActivityFactory(details={"plan": "premium", "seats": [1, 2]})
    columns = ("id", "type", "occurred_at", "details")

    found = rows.fetch(Activity, columns, "SELECT id, type, occurred_at, details FROM leads_activity WHERE id = %s",
                       [activity.pk])

    assert found == [list(Activity.objects.filter(pk=activity.pk).values_list(*columns).get())]
    assert found[0][2].utcoffset() is not None and found[0][3] == {"plan": "premium", "seats": [1, 2]}


def test_colleagues_are_the_owned_mqls_at_the_domain_but_the_lead_itself():
    owner = UserFactory()
    lead = LeadFactory(email="a@firm.de", owner=owner, status="mql")
    other = LeadFactory(email="b@firm.de", owner=owner, status="accepted")
    LeadFactory(email="c@firm.de", status="mql")  # nobody's
    LeadFactory(email="d@firm.de", owner=owner, status="raw")
    LeadFactory(email="e@elsewhere.de", owner=owner, status="mql")

    found = facts._colleagues("firm.de", lead.pk)

    assert found == [[other.pk, owner.pk, "accepted", other.mql_at]]
    assert sorted(row[0] for row in facts._colleagues("firm.de", None)) == sorted([lead.pk, other.pk])
