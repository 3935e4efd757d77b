"""Global search, the box in every page's header: the leads, contacts, accounts and
opportunities the user may see whose name, email, phone, company or domain contain every
word typed (in any order, anywhere in a field: "sofia santos", "santos@", "initech").

Each record type is searched in one expression over its searchable fields (the
`HAYSTACKS`), the same expression a trigram index covers on PostgreSQL
(leads/migrations/0014_search_trigrams.py, opportunities/migrations/…_search_trigrams.py):
a `LIKE '%WORD%'` per word is then an index scan at a million leads. SQLite has no such
index and scans, which its demo-sized tables allow."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from django.db.models import QuerySet, TextField
from django.db.models.expressions import RawSQL

from leads.models import Account, Contact, Lead
from opportunities.models import Opportunity
from sdrcrm.errors import Refused
from sdrcrm.models import User

MIN_WORD = 3  # a trigram index cannot find fewer letters
MAX_WORDS = 5
SHOWN = 10  # per record type, newest first
PROBE = 1000  # matches read by the trigram index before a word counts as common

PERSON = "UPPER({t}.first_name || ' ' || {t}.last_name || ' ' || {t}.email || ' ' || {t}.company || ' ' || {t}.phone)"
HAYSTACKS = {
    Lead: PERSON.format(t="leads_lead"),
    Contact: PERSON.format(t="leads_contact"),
    Account: "UPPER(leads_account.name || ' ' || leads_account.domain)",
    Opportunity: "UPPER(opportunities_opportunity.name)",
}


@dataclass
class Results:
    term: str
    found: dict[str, list[Any]] = field(default_factory=dict)

    @property
    def empty(self) -> bool:
        return not any(self.found.values())


def words_of(term: str) -> list[str]:
    """The words to look for; refused when none is long enough to search by."""
    words = term.upper().split()[:MAX_WORDS]
    if not any(len(word) >= MIN_WORD for word in words):
        raise Refused(f"Type at least {MIN_WORD} letters of a name, email, phone, company or domain.", field="q")
    return words


def matching(queryset: QuerySet, words: list[str], indexed: bool = True) -> QuerySet:
    """`queryset`'s rows whose haystack holds every word. `indexed=False` words the same
    test so that no trigram index serves it (see `newest_matching`)."""
    sql = HAYSTACKS[queryset.model] if indexed else f"({HAYSTACKS[queryset.model]} || '')"
    queryset = queryset.annotate(haystack=RawSQL(sql, [], output_field=TextField()))  # noqa: S611 - no input in it
    for word in words:
        queryset = queryset.filter(haystack__contains=word)
    return queryset


def newest_matching(queryset: QuerySet, words: list[str]) -> list[Any]:
    """The SHOWN newest matching rows, in two queries whatever the words (one when none
    matches).

    The trigram index finds the matches of a rare word at once but must read every one
    of a common word's thousands; walking the table newest first by id meets ten matches
    of a common word at once but reads the whole table for a rare one. So: up to PROBE
    ids by the index first; fewer than that are all the matches, and the newest come from
    them; otherwise the word is common and the newest rows by id are read, with the index
    kept out of it (PostgreSQL's guess at a LIKE's selectivity would otherwise pick it).
    At 1M leads one record type takes 8–35 ms (bench/REPORT.md)."""
    ids = list(matching(queryset, words).order_by().values_list("pk", flat=True)[:PROBE])
    if not ids:
        return []
    if len(ids) < PROBE:
        return list(queryset.filter(pk__in=sorted(ids, reverse=True)[:SHOWN]).order_by("-pk"))
    return list(matching(queryset, words, indexed=False).order_by("-pk")[:SHOWN])


def search(user: User, term: str) -> Results:
    words = words_of(term)
    results = Results(term=term.strip())
    sources: dict[str, QuerySet] = {
        "leads": Lead.objects.visible_to(user).select_related("owner", "queue"),
        "contacts": Contact.objects.visible_to(user).select_related("owner", "account"),
        "accounts": Account.objects.visible_to(user).select_related("owner"),
        "opportunities": Opportunity.objects.visible_to(user).select_related("account", "owner"),
    }
    for name, queryset in sources.items():
        results.found[name] = newest_matching(queryset, words)
    return results


# --- Pickers: the type-ahead fields of the pages' forms (an account to convert into, a
# reseller's lead, the opportunity a duplicate merged into) ----------------------------

LOOKUPS: dict[str, Any] = {
    "accounts": lambda user: Account.objects.visible_to(user),
    "leads": lambda user: Lead.objects.editable_by(user),
    "opportunities": lambda user: Opportunity.objects.visible_to(user).select_related("account"),
}


def lookup(user: User, kind: str, term: str) -> list[Any]:
    """Up to SHOWN records of `kind` the user may pick (see, or for leads change) whose
    searchable fields hold every word of `term`, newest first: the global search's rules."""
    return newest_matching(LOOKUPS[kind](user), words_of(term))
