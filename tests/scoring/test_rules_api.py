from __future__ import annotations

import pytest

from leads import services
from leads.models import Lead, Status
from scoring.models import ScoreEntry, ScoringRule, ScoringRuleChange
from tests.factories import LeadFactory

pytestmark = pytest.mark.django_db


def rule(key: str) -> ScoringRule:
    return ScoringRule.objects.get(key=key)


def test_the_seeded_rules_are_listed_for_everyone(api, sdr):
    response = api.as_user(sdr).get("/api/v1/scoring/rules/?page_size=200")
    assert response.status_code == 200
    points = {item["key"]: item["points"] for item in response.json()["results"]}
    assert points["activity-trial-request"] == 100 and points["title-senior"] == 50
    assert len(points) == 30


def test_ops_change_a_rule_with_a_new_version_and_an_audit_row(api, ops):
    target = rule("activity-pricing-page-visit")
    response = api.as_user(ops).patch(f"/api/v1/scoring/rules/{target.pk}/", {"points": 20}, format="json")

    assert response.status_code == 200
    assert response.json()["version"] == 2
    change = ScoringRuleChange.objects.get(rule=target)
    assert (change.old["points"], change.new["points"], change.by, change.version) == (10, 20, ops, 2)


def test_a_rule_change_rescores_affected_leads_in_the_background(api, ops, django_capture_on_commit_callbacks):
    lead = LeadFactory(title="Analyst", email="a@acme.com")
    services.record_activity(lead, "pricing_page_visit")
    bystander = LeadFactory(title="Analyst", email="b@acme.com")
    services.record_activity(bystander, "features_page_visit")  # another rule: not re-scored
    untouched = list(ScoreEntry.objects.filter(lead=bystander).values_list("id", flat=True))
    target = rule("activity-pricing-page-visit")

    with django_capture_on_commit_callbacks(execute=True):
        api.as_user(ops).patch(f"/api/v1/scoring/rules/{target.pk}/", {"points": 85}, format="json")

    lead.refresh_from_db()
    assert lead.score == 5 + 85
    assert lead.status == Status.MQL  # a re-score can make a lead MQL
    correction = ScoreEntry.objects.filter(lead=lead, rule_key=target.key).order_by("id").last()
    assert (correction.points, correction.rule_version) == (75, 2)
    assert list(ScoreEntry.objects.filter(lead=bystander).values_list("id", flat=True)) == untouched


def test_a_rescore_never_takes_mql_away(api, ops, django_capture_on_commit_callbacks):
    lead = LeadFactory(title="Analyst", email="a@acme.com")
    services.record_activity(lead, "contact_request")
    assert Lead.objects.get(pk=lead.pk).status == Status.MQL
    target = rule("activity-contact-request")

    with django_capture_on_commit_callbacks(execute=True):
        api.as_user(ops).patch(f"/api/v1/scoring/rules/{target.pk}/", {"points": 10}, format="json")

    lead.refresh_from_db()
    assert lead.score == 15
    assert lead.status == Status.MQL


def test_sdrs_cannot_change_rules(api, sdr):
    target = rule("activity-pricing-page-visit")
    response = api.as_user(sdr).patch(f"/api/v1/scoring/rules/{target.pk}/", {"points": 99}, format="json")
    assert response.status_code == 403
    assert rule(target.key).points == 10


@pytest.mark.parametrize("body", [{"points": 5000}, {"points": "lots"}, {"counting": "sometimes"}])
def test_bad_rule_edits_answer_400_and_change_nothing(api, ops, body):
    target = rule("activity-pricing-page-visit")
    response = api.as_user(ops).patch(f"/api/v1/scoring/rules/{target.pk}/", body, format="json")
    assert response.status_code == 400
    assert set(response.json()["errors"]) == set(body)
    assert (rule(target.key).points, rule(target.key).version) == (10, 1)


def test_the_key_and_type_of_a_rule_cannot_be_changed(api, ops):
    target = rule("activity-pricing-page-visit")
    api.as_user(ops).patch(f"/api/v1/scoring/rules/{target.pk}/", {"key": "x", "activity_type": "call"},
                           format="json")
    assert (rule(target.key).key, rule(target.key).activity_type) == (target.key, "pricing_page_visit")


# --- The re-score keeps its progress: batches, and a lost task sent again -----------------------


def test_the_rescore_goes_in_batches_and_records_how_far_it_got(api, ops, monkeypatch,
                                                                django_capture_on_commit_callbacks):
    from scoring import tasks

    monkeypatch.setattr(tasks, "RESCORE_BATCH", 2)
    leads = [LeadFactory(title="Analyst", email=f"p{n}@acme.com") for n in range(5)]
    for lead in leads:
        services.record_activity(lead, "pricing_page_visit")
    target = rule("activity-pricing-page-visit")

    with django_capture_on_commit_callbacks(execute=True):
        api.as_user(ops).patch(f"/api/v1/scoring/rules/{target.pk}/", {"points": 95}, format="json")

    change = ScoringRuleChange.objects.get(rule=target)
    assert change.rescored_at is not None and change.rescored_through == max(lead.pk for lead in leads)
    assert set(Lead.objects.filter(pk__in=[lead.pk for lead in leads]).values_list("status", flat=True)) == {
        Status.MQL}


def test_a_rescore_whose_task_was_lost_is_sent_again_by_the_rescores_job(api, ops, settings,
                                                                          django_capture_on_commit_callbacks):
    from datetime import timedelta

    from django.utils import timezone

    from sdrcrm.jobs import run_job

    lead = LeadFactory(title="Analyst", email="a@acme.com")
    services.record_activity(lead, "pricing_page_visit")
    target = rule("activity-pricing-page-visit")
    # No on-commit callbacks run here: the task is lost, as with a worker killed after the pop.
    api.as_user(ops).patch(f"/api/v1/scoring/rules/{target.pk}/", {"points": 95}, format="json")
    change = ScoringRuleChange.objects.get(rule=target)
    assert change.rescored_at is None and Lead.objects.get(pk=lead.pk).status != Status.MQL

    assert run_job("rescores", timezone.now()).counts == {"requeued": 0}  # not stalled yet
    later = timezone.now() + timedelta(seconds=settings.RESCORE_REQUEUE_AFTER_SECONDS + 1)
    with django_capture_on_commit_callbacks(execute=True):
        assert run_job("rescores", later).counts == {"requeued": 1}

    change.refresh_from_db()
    assert change.rescored_at is not None and Lead.objects.get(pk=lead.pk).status == Status.MQL


def test_a_batch_sent_twice_is_not_done_twice(api, ops):
    from leads import lifecycle

    lead = LeadFactory(title="Analyst", email="a@acme.com")
    services.record_activity(lead, "pricing_page_visit")
    target = rule("activity-pricing-page-visit")
    api.as_user(ops).patch(f"/api/v1/scoring/rules/{target.pk}/", {"points": 95}, format="json")
    change = ScoringRuleChange.objects.get(rule=target)

    assert lifecycle.rescore_change_batch(change.pk, 10) is False  # done
    entries = ScoreEntry.objects.count()
    assert lifecycle.rescore_change_batch(change.pk, 10) is False  # the duplicate: nothing left to do
    assert ScoreEntry.objects.count() == entries
