"""Net-new account tiers (docs/rules.md §5, handbook "Account Scoring & Prioritization"): five
qualifiers, A for four or more down to F for none. Pure: facts in, names out; the
account service (services.save_account) stores the tier on every save."""

from __future__ import annotations

import re
from typing import Any

CE_USAGE = "ce_usage"
IT_EMPLOYEES = "it_employees"
GOOD_FIT_INDUSTRY = "good_fit_industry"
EARLY_ADOPTER = "early_adopter"
DEVOPS_ADOPTION = "devops_adoption"

LABELS = {
    CE_USAGE: "Current CE usage",
    IT_EMPLOYEES: "250+ employees in IT/TEDD",
    GOOD_FIT_INDUSTRY: "Good-fit industry",
    EARLY_ADOPTER: "Early-adopter keywords in the tech stack",
    DEVOPS_ADOPTION: "Current DevOps adoption",
}

IT_EMPLOYEES_MIN = 250

# The handbook's good-fit verticals (high growth, technology, financial, healthcare,
# regulated business) as the words an industry field holds. An industry qualifies when
# one of these phrases appears in it as whole words, in any case ("Computer Software",
# "Hospital & Health Care", "Oil & Energy"), since the field is free text.
GOOD_FIT_INDUSTRIES = frozenset({
    # High growth
    "high growth", "startup", "saas",
    # Technology / software
    "technology", "information technology", "software", "computer software", "internet", "it services",
    "computer hardware", "semiconductors", "telecommunications", "telecom",
    # Financial services / banking / insurance
    "financial services", "finance", "financial", "fintech", "banking", "bank", "insurance", "investment banking",
    "capital markets",
    # Healthcare / pharma / life sciences
    "healthcare", "health care", "hospital", "pharmaceuticals", "pharmaceutical", "pharma", "life sciences",
    "biotechnology", "biotech", "medical devices",
    # Regulated business
    "government", "government administration", "public sector", "defense", "aerospace", "utilities", "energy",
    "oil and gas",
})

# Early adopters / innovative IT shops. Whole words, any case, with the spellings people
# use ("CI/CD", "cicd", "ci cd"). Each keyword has its own pattern, and "devops" never
# matches inside "devsecops", so no keyword is counted for another; one is enough.
EARLY_ADOPTER_KEYWORDS: dict[str, str] = {
    "kubernetes": r"kubernetes|k8s",
    "containers": r"containers?|containeri[sz]ed|containeri[sz]ation",
    "microservices": r"micro[\s-]?services?",
    "multi-cloud": r"multi[\s-]?cloud",
    "devops": r"dev[\s-]?ops",
    "devsecops": r"dev[\s-]?sec[\s-]?ops",
    "ci/cd": r"ci\s*[/&-]?\s*cd",
    "sast": r"sast",
    "dast": r"dast",
    "digital transformation": r"digital[\s-]+transformation",
}
_KEYWORD_PATTERNS = {name: re.compile(rf"(?<!\w)(?:{pattern})(?!\w)", re.IGNORECASE)
                     for name, pattern in EARLY_ADOPTER_KEYWORDS.items()}
_INDUSTRY_PATTERN = re.compile(
    r"(?<!\w)(?:" + "|".join(re.escape(p).replace(r"\ ", r"[\s-]+") for p in sorted(GOOD_FIT_INDUSTRIES)) + r")(?!\w)",
    re.IGNORECASE,
)


def _normalise_industry(industry: str) -> str:
    # "Oil & Gas" and "Oil and Gas" are the same industry.
    return re.sub(r"\s*&\s*", " and ", industry.strip())


def is_good_fit_industry(industry: str) -> bool:
    return bool(industry) and _INDUSTRY_PATTERN.search(_normalise_industry(industry)) is not None


def early_adopter_keywords(tech_stack: str) -> list[str]:
    """The early-adopter keywords found in a tech stack, each named once, in table order."""
    if not tech_stack:
        return []
    return [name for name, pattern in _KEYWORD_PATTERNS.items() if pattern.search(tech_stack)]


def qualifiers(using_ce: bool, it_employees: int | None, industry: str, tech_stack: str,
               devops_adoption: bool) -> list[str]:
    """The names of the tier qualifiers an account meets (keys of LABELS)."""
    met = []
    if using_ce:
        met.append(CE_USAGE)
    if it_employees is not None and it_employees >= IT_EMPLOYEES_MIN:
        met.append(IT_EMPLOYEES)
    if is_good_fit_industry(industry):
        met.append(GOOD_FIT_INDUSTRY)
    if early_adopter_keywords(tech_stack):
        met.append(EARLY_ADOPTER)
    if devops_adoption:
        met.append(DEVOPS_ADOPTION)
    return met


def qualifiers_of(account: Any) -> list[str]:
    """The qualifiers of an Account (or anything with its five fields)."""
    return qualifiers(account.using_ce, account.it_employees, account.industry, account.tech_stack,
                      account.devops_adoption)


def tier_of(account: Any) -> str:
    """The account's tier from the qualifiers it meets."""
    return tier(len(qualifiers_of(account)))


def tier(count: int) -> str:
    """A for four or five qualifiers, B three, C two, D one, F none."""
    if count < 0:
        raise ValueError(f"A qualifier count is never negative (got {count}).")
    if count >= 4:
        return "A"
    return {3: "B", 2: "C", 1: "D", 0: "F"}[count]
