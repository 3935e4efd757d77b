"""The pure MQL engine, fed the seed table: every row of docs/rules.md §1's two tables and each
counting rule. No database."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from scoring import rules as engine
from scoring.rule_table import BEHAVIOUR, PROFILE, behaviour_key

RULES = [engine.Rule(key=behaviour_key(t), label=label, points=p, activity_type=t, counting=c)
         for t, p, c, label in BEHAVIOUR]
RULES += [engine.Rule(key=key, label=label, points=p, condition=cond) for key, cond, p, label in PROFILE]
T0 = datetime(2026, 11, 2, 9, 0, tzinfo=UTC)

# docs/rules.md §1, behaviour table, written out again: the test must not read the seed it checks.
BEHAVIOUR_POINTS = {
    "trial_request": 100, "contact_request": 100, "professional_services_request": 100,
    "webcast_attended_high_intent": 90, "enterprise_trial_page_visit": 50, "ondemand_watched_high_intent": 45,
    "booth_visit": 30, "live_event_attended": 30, "gated_asset_download": 30,
    "webcast_registered": 15, "webcast_attended_low_intent": 15, "ondemand_watched_low_intent": 15,
    "newsletter_optin": 10, "security_newsletter_optin": 10, "webcast_emails_optin": 10,
    "event_emails_optin": 10, "pricing_page_visit": 10, "features_page_visit": 10,
    "installation_page_visit": 2, "email_unsubscribe": -25,
    "web_chat": 0, "sequence_reply": 0, "call": 0, "email_sent": 0, "meeting": 0,
}


def acts(*specs: tuple[str, datetime]) -> list[engine.ActivityFact]:
    return [engine.ActivityFact(i + 1, kind, at) for i, (kind, at) in enumerate(specs)]


def behaviour(*specs: tuple[str, datetime], since: datetime | None = None) -> int:
    return sum(a.points for a in engine.behaviour_awards(acts(*specs), RULES, since))


@pytest.mark.parametrize(("kind", "points"), sorted(BEHAVIOUR_POINTS.items()))
def test_each_behaviour_row_scores_its_points_once(kind, points):
    assert behaviour((kind, T0)) == points


def test_a_single_career_page_visit_scores_nothing():
    assert behaviour(("career_page_visit", T0)) == 0


@pytest.mark.parametrize("kind", ["trial_request", "contact_request", "professional_services_request",
                                  "webcast_attended_high_intent", "live_event_attended", "booth_visit"])
def test_form_fills_and_attendance_score_every_time(kind):
    assert behaviour((kind, T0), (kind, T0 + timedelta(minutes=5))) == 2 * BEHAVIOUR_POINTS[kind]


@pytest.mark.parametrize("kind", ["pricing_page_visit", "features_page_visit", "installation_page_visit",
                                  "enterprise_trial_page_visit"])
def test_page_visits_score_once_per_type_per_calendar_day(kind):
    same_day = behaviour((kind, T0), (kind, T0 + timedelta(hours=8)))
    next_day = behaviour((kind, T0), (kind, T0 + timedelta(days=1)))
    assert same_day == BEHAVIOUR_POINTS[kind]
    assert next_day == 2 * BEHAVIOUR_POINTS[kind]


def test_two_page_types_on_one_day_both_score():
    assert behaviour(("pricing_page_visit", T0), ("features_page_visit", T0)) == 20


@pytest.mark.parametrize("kind", ["newsletter_optin", "security_newsletter_optin", "webcast_emails_optin",
                                  "event_emails_optin"])
def test_opt_ins_score_once_per_type_ever(kind):
    assert behaviour((kind, T0), (kind, T0 + timedelta(days=40))) == 10


def test_two_career_visits_within_seven_days_cost_25_once_per_window():
    two = behaviour(("career_page_visit", T0), ("career_page_visit", T0 + timedelta(days=6, hours=23)))
    apart = behaviour(("career_page_visit", T0), ("career_page_visit", T0 + timedelta(days=7)))
    many = behaviour(*[("career_page_visit", T0 + timedelta(days=d)) for d in range(5)])
    assert two == -25
    assert apart == 0  # exactly 7 days apart: not within 7 days
    assert many == -25  # five visits in one window: one penalty


def test_a_new_career_window_can_cost_again():
    visits = [T0, T0 + timedelta(days=1), T0 + timedelta(days=8), T0 + timedelta(days=9)]
    assert behaviour(*[("career_page_visit", at) for at in visits]) == -50


def test_recycle_reset_drops_behaviour_before_it():
    reset = T0 + timedelta(days=1)
    assert behaviour(("contact_request", T0), ("pricing_page_visit", T0), since=reset) == 0
    assert behaviour(("contact_request", T0), ("contact_request", reset + timedelta(hours=1)), since=reset) == 100


def test_a_page_visit_after_the_reset_scores_even_on_the_same_day():
    reset = T0 + timedelta(hours=1)
    assert behaviour(("pricing_page_visit", T0), ("pricing_page_visit", T0 + timedelta(hours=2)), since=reset) == 10


def test_an_opt_in_scored_before_the_reset_does_not_score_again():
    reset = T0 + timedelta(days=1)
    assert behaviour(("newsletter_optin", T0), ("newsletter_optin", reset + timedelta(days=1)), since=reset) == 0


def profile(title: str, email: str = "jane@acme.com") -> int:
    return sum(a.points for a in engine.profile_awards(engine.Profile(title, email), RULES))


@pytest.mark.parametrize(
    ("title", "points"),
    [
        ("VP Sales", 50), ("Vice President, IT", 50), ("IT Manager", 50), ("Director of Ops", 50),
        ("senior analyst", 50), ("Head of Platform", 50), ("CTO", 0), ("Analyst", 0),
        ("", -10), ("   ", -10), ("12345", -10), ("Software Developer", -10), ("engineer", -10),
        ("Senior Engineer", 40), ("VP of Engineering", 50),  # docs/rules.md §1.3: Engineering is not Engineer
        ("Engineering Manager", 50),  # "Engineering" is not the word Engineer
        ("Managerial Accountant", 0), ("Headhunter", 0),  # whole words only
    ],
)
def test_title_rules(title, points):
    assert profile(title) - 5 == points  # minus the company-email +5


@pytest.mark.parametrize(
    ("email", "points"),
    [("jane@acme.com", 5), ("jane@gmail.com", -5), ("jane@HOTMAIL.com", -5), ("jane@yahoo.com", -5),
     ("jane@aol.com", -5), ("jane@outlook.com", -5), ("jane@icloud.com", -5),
     ("jane@mailinator.com", 0), ("not-an-email", 0)],
)
def test_email_rules(email, points):
    assert profile("Analyst", email) == points


def test_score_sums_profile_and_behaviour_with_a_reason_for_each_award():
    total, awards = engine.score(engine.Profile("Senior Engineer", "jane@acme.com"),
                                 acts(("contact_request", T0)), RULES)
    assert total == 50 - 10 + 5 + 100
    assert {a.rule_key for a in awards} == {"title-senior", "title-junior", "email-company",
                                            "activity-contact-request"}
    assert all(a.reason for a in awards)
