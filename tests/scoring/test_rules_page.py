"""The scoring rules page (/scoring/rules/): ops change a rule's points, label or counting
in place through update_rule (new version, audit row, background re-score); others 403."""

from __future__ import annotations

import pytest
from django.test import Client

from leads import services
from scoring.models import ScoringRule, ScoringRuleChange
from sdrcrm.models import Role
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db


def test_ops_change_a_rules_points_and_the_people_it_touches_are_rescored(client, ops,
                                                                          django_capture_on_commit_callbacks):
    lead = services.ingest_lead({"email": "p@firm.de", "last_name": "Doe", "initial_source": "webcast"}, by=None).lead
    services.record_activity(lead, "pricing_page_visit")
    lead.refresh_from_db()
    before = lead.score
    rule = ScoringRule.objects.get(key="activity-pricing-page-visit")
    client.force_login(ops)
    assert f'data-rule="{rule.key}"' in client.get("/scoring/rules/").content.decode()

    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(f"/scoring/rules/{rule.pk}/", {"label": rule.label, "points": "25",
                                                               "counting": rule.counting})

    rule.refresh_from_db()
    assert (rule.points, rule.version) == (25, 2)
    change = ScoringRuleChange.objects.get(rule=rule)
    assert (change.old["points"], change.new["points"], change.by) == (10, 25, ops)
    lead.refresh_from_db()
    assert lead.score == before + 15
    page = client.get(response.url).content.decode()
    assert "is now 25 points (version 2)" in page and "10 → 25 points" in page


def test_a_bad_value_is_told_and_changes_nothing(client, ops):
    rule = ScoringRule.objects.get(key="activity-pricing-page-visit")
    client.force_login(ops)
    response = client.post(f"/scoring/rules/{rule.pk}/", {"label": rule.label, "points": "5000",
                                                          "counting": rule.counting}, follow=True)
    assert "not changed. points: Ensure this value is less than or equal to 1000." in response.content.decode()
    rule.refresh_from_db()
    assert (rule.points, rule.version) == (10, 1) and not ScoringRuleChange.objects.exists()


@pytest.mark.parametrize("role", [Role.SDR, Role.SDR_MANAGER])
def test_only_ops_see_or_change_the_rules(client, role):
    rule = ScoringRule.objects.first()
    client.force_login(UserFactory(role=role))
    assert client.get("/scoring/rules/").status_code == 403
    assert client.post(f"/scoring/rules/{rule.pk}/", {"label": "x", "points": "1", "counting": "every"}
                       ).status_code == 403
    assert not ScoringRuleChange.objects.exists()


def test_the_rule_form_needs_its_csrf_token(ops):
    rule = ScoringRule.objects.first()
    client = Client(enforce_csrf_checks=True)
    client.force_login(ops)
    assert client.post(f"/scoring/rules/{rule.pk}/", {"label": "x", "points": "1", "counting": "every"}
                       ).status_code == 403
