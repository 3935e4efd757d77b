"""The MQL model as a pure function: facts about a person and their activities in,
points out, each award with the rule that gave it and why. No database here."""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from leads.domains import email_domain, is_disposable, is_free

SENIOR_TITLE = re.compile(r"\b(vp|vice president|manager|director|senior|head)\b", re.IGNORECASE)
JUNIOR_TITLE = re.compile(r"\b(developer|engineer)\b", re.IGNORECASE)
EMAIL_SYNTAX = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
CAREER_WINDOW = timedelta(days=7)


class Counting:
    EVERY = "every"          # form fills and attendance: every occurrence
    DAILY = "daily"          # page visits: once per page type per calendar day
    ONCE = "once"            # opt-ins: once per type, ever
    WINDOW_7_DAYS = "window7"  # career pages: 2+ within 7 days, once per 7-day window


class Condition:
    SENIOR_TITLE = "senior_title"
    JUNIOR_TITLE = "junior_title"
    COMPANY_EMAIL = "company_email"
    FREE_EMAIL = "free_email"


@dataclass(frozen=True)
class Rule:
    key: str
    label: str
    points: int
    version: int = 1
    activity_type: str = ""   # behaviour rules
    counting: str = Counting.EVERY
    condition: str = ""       # profile rules


@dataclass(frozen=True)
class Profile:
    title: str
    email: str


@dataclass(frozen=True)
class ActivityFact:
    id: int
    type: str
    occurred_at: datetime


@dataclass(frozen=True)
class Award:
    rule_key: str
    rule_version: int
    points: int
    activity_id: int | None
    reason: str


def profile_matches(condition: str, profile: Profile) -> bool:
    title = profile.title.strip()
    domain = email_domain(profile.email)
    if condition == Condition.SENIOR_TITLE:
        return bool(SENIOR_TITLE.search(title))
    if condition == Condition.JUNIOR_TITLE:
        return not title or title.isdigit() or bool(JUNIOR_TITLE.search(title))
    if condition == Condition.COMPANY_EMAIL:
        return bool(EMAIL_SYNTAX.match(profile.email)) and not is_free(domain) and not is_disposable(domain)
    if condition == Condition.FREE_EMAIL:
        return is_free(domain)
    raise ValueError(f"unknown profile condition {condition!r}")


def profile_awards(profile: Profile, rules: Iterable[Rule]) -> list[Award]:
    return [
        Award(rule.key, rule.version, rule.points, None, rule.label)
        for rule in rules
        if rule.condition and profile_matches(rule.condition, profile)
    ]


def behaviour_awards(
    activities: Sequence[ActivityFact], rules: Iterable[Rule], counted_since: datetime | None = None
) -> list[Award]:
    """Awards for activities, oldest first. Activities before `counted_since` (the last
    move to recycle) no longer count, except that an opt-in scored before it is not
    scored again ("once ever")."""
    by_type = {rule.activity_type: rule for rule in rules if rule.activity_type}
    awards: list[Award] = []
    seen_days: set[tuple[str, object]] = set()
    seen_once: set[str] = set()
    careers: list[datetime] = []
    last_career_penalty: datetime | None = None
    for activity in sorted(activities, key=lambda a: (a.occurred_at, a.id)):
        rule = by_type.get(activity.type)
        if rule is None or rule.points == 0:
            continue
        counts = counted_since is None or activity.occurred_at >= counted_since
        if rule.counting == Counting.ONCE:
            if activity.type in seen_once:
                continue
            seen_once.add(activity.type)
        elif rule.counting == Counting.DAILY:
            day = (activity.type, activity.occurred_at.date())
            if not counts or day in seen_days:
                continue
            seen_days.add(day)
        elif rule.counting == Counting.WINDOW_7_DAYS:
            if not counts:
                continue
            careers.append(activity.occurred_at)
            recent = [at for at in careers if activity.occurred_at - at < CAREER_WINDOW]
            window_open = last_career_penalty is None or activity.occurred_at - last_career_penalty >= CAREER_WINDOW
            if len(recent) < 2 or not window_open:
                continue
            last_career_penalty = activity.occurred_at
            awards.append(Award(rule.key, rule.version, rule.points, activity.id,
                                f"{rule.label} (2 or more within 7 days)"))
            continue
        if counts:
            awards.append(Award(rule.key, rule.version, rule.points, activity.id, rule.label))
    return awards


def score(profile: Profile, activities: Sequence[ActivityFact], rules: Sequence[Rule],
          counted_since: datetime | None = None) -> tuple[int, list[Award]]:
    awards = profile_awards(profile, rules) + behaviour_awards(activities, rules, counted_since)
    return sum(award.points for award in awards), awards
