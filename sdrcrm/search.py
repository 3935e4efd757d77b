"""Global search, the box in every page's header: the leads, contacts, accounts and
opportunities the user may see whose name, email, phone, company or domain contain every
word typed (in any order, anywhere in a field: "sofia santos", "santos@", "initech").

Each record type is searched in one expression over its searchable fields (the
`HAYSTACKS`), the same expression a trigram index covers on PostgreSQL
(leads/migrations/0014_search_trigrams.py, opportunities/migrations/…_search_trigrams.py):
a `LIKE '%WORD%'` per word is then an index scan at a million leads. SQLite has no such
index and scans, which its demo-sized tables allow.

Leads are searched in their narrow copy, `LeadSearch` (id, owner, creator, text; kept by
triggers), scoped by the same access rule written as owners' ids: both the index's
matches and the newest-first walk read small rows and join nothing. The leads themselves
are then read by id through `Lead.objects.visible_to`, as every other record type is."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from django.db import connections
from django.db.models import QuerySet, TextField
from django.db.models.expressions import RawSQL

from leads.models import Account, Contact, Lead, LeadSearch
from opportunities.models import Opportunity
from sdrcrm.errors import Refused
from sdrcrm.models import User

MIN_WORD = 3  # a trigram index cannot find fewer letters
MAX_WORDS = 5
SHOWN = 10  # per record type, newest first
PROBE = 1000  # matches read by the trigram index before a word counts as common
RECENT = 5000  # newest rows of a narrow table walked before its trigram index is asked

PERSON = "UPPER({t}.first_name || ' ' || {t}.last_name || ' ' || {t}.email || ' ' || {t}.company || ' ' || {t}.phone)"
HAYSTACKS = {
    LeadSearch: "leads_leadsearch.haystack",  # the lead's PERSON text, kept by triggers (leads/models/search.py)
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
    queryset = queryset.annotate(searched=RawSQL(sql, [], output_field=TextField()))  # noqa: S611 - no input in it
    for word in words:
        queryset = queryset.filter(searched__contains=word)
    return queryset


# Where a record type is searched: its rows as the user may read them, and, when its
# matches are looked for in a narrow table instead (leads: `LeadSearch`), that table with the
# same access.
Source = tuple[QuerySet, QuerySet | None]


def newest_matching(queryset: QuerySet, words: list[str], index: QuerySet | None = None) -> list[Any]:
    """The SHOWN newest rows of `queryset` that match (see `newest_of_each`)."""
    return newest_of_each({"rows": (queryset, index)}, words)["rows"]


def newest_of_each(sources: dict[str, Source], words: list[str]) -> dict[str, list[Any]]:
    """The SHOWN newest matching rows of each source, in a few queries whatever the words:
    one that probes every source at once, then the rows of each source with matches.

    The trigram index finds the matches of a rare word at once but must read every one
    of a common word's thousands; walking the table newest first by id meets ten matches
    of a common word at once but reads the whole table for a rare one. So: in a narrow
    table, where a row costs little, the RECENT newest rows are walked first for a word
    that may be common, which is all a common word needs. Then up to PROBE ids by the
    index; fewer than that are all the matches, and the newest come from them; otherwise
    the word is common (in older rows) and the newest ids are walked for, with the index
    kept out of it (PostgreSQL's guess at a LIKE's selectivity would otherwise pick it).
    The rows are then read by id (bench/REPORT.md has the timings at 1M leads)."""
    ids: dict[str, list[int]] = {}
    for name, (_, index) in sources.items():
        if index is not None and may_be_common(words) and len(recent := newest_recent(index, words)) == SHOWN:
            ids[name] = recent
    where = {name: index if index is not None else queryset for name, (queryset, index) in sources.items()}
    probes = newest_probed({name: matching(where[name], words) for name in sources if name not in ids})
    for name, (found, probed) in probes.items():
        if probed >= PROBE:
            found = list(matching(where[name], words, indexed=False).order_by("-pk")
                         .values_list("pk", flat=True)[:SHOWN])
        ids[name] = found
    return {name: list(queryset.filter(pk__in=ids[name]).order_by("-pk")) if ids[name] else []
            for name, (queryset, _) in sources.items()}


def may_be_common(words: list[str]) -> bool:
    """Whether the term could match thousands: one word of letters (a name, a company).
    Several words, an email, a domain or a phone number match few, and the trigram index
    finds those at once."""
    return len(words) == 1 and words[0].isalpha()


def newest_recent(index: QuerySet, words: list[str]) -> list[int]:
    """The SHOWN newest ids matching every word among `index`'s RECENT newest rows: a walk
    by id that stops at the tenth match, or after RECENT rows."""
    recent = matching(index, []).order_by("-pk").values_list("pk", "searched")[:RECENT]
    sql, params = recent.query.sql_with_params()
    connection = connections[index.db]
    likes = " AND ".join(["searched LIKE %s ESCAPE '\\'"] * len(words))
    patterns = [f"%{connection.ops.prep_for_like_query(word)}%" for word in words]
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT pk FROM ({sql}) AS recent WHERE {likes} ORDER BY pk DESC LIMIT %s",
                       [*params, *patterns, SHOWN])
        return [row[0] for row in cursor.fetchall()]


def newest_probed(matches: dict[str, QuerySet]) -> dict[str, tuple[list[int], int]]:
    """For each queryset of matches, the SHOWN newest ids among up to PROBE read by the
    index, and how many were read: one statement for them all, and the database picks the
    newest, so a common word's thousand ids never travel."""
    if not matches:
        return {}
    parts, params, db = [], [], ""
    for n, queryset in enumerate(matches.values()):
        probe, probe_params = queryset.order_by().values_list("pk", flat=True)[:PROBE].query.sql_with_params()
        parts.append(f"SELECT * FROM (SELECT {n} AS part, pk, COUNT(*) OVER () AS probed FROM ({probe}) AS probe{n} "
                     f"ORDER BY pk DESC LIMIT %s) AS newest{n}")
        params += [*probe_params, SHOWN]
        db = queryset.db
    with connections[db].cursor() as cursor:
        cursor.execute(" UNION ALL ".join(parts), params)
        rows = cursor.fetchall()
    found: dict[str, tuple[list[int], int]] = {name: ([], 0) for name in matches}
    names = list(matches)
    for part, pk, probed in rows:
        ids, _ = found[names[part]]
        found[names[part]] = ([*ids, pk], probed)
    return found


OWNER = ("owner__first_name", "owner__last_name", "owner__username")
PERSON_SHOWN = ("first_name", "last_name", "email", "company", "status", *OWNER)


def search(user: User, term: str) -> Results:
    """What the search page and `GET /api/v1/search/` show; only the fields they show are
    read (a lead has some fifty)."""
    words = words_of(term)
    results = Results(term=term.strip())
    sources: dict[str, Source] = {
        "leads": (Lead.objects.visible_to(user).select_related("owner", "queue").only(*PERSON_SHOWN, "queue__name"),
                  LeadSearch.objects.visible_to(user)),
        "contacts": (Contact.objects.visible_to(user).select_related("owner", "account")
                     .only(*PERSON_SHOWN, "account__name"), None),
        "accounts": (Account.objects.visible_to(user).select_related("owner").only("name", "domain", "type", *OWNER),
                     None),
        "opportunities": (Opportunity.objects.visible_to(user).select_related("account", "owner")
                          .only("name", "stage", "account__name", *OWNER), None),
    }
    results.found = newest_of_each(sources, words)
    return results


# --- Pickers: the type-ahead fields of the pages' forms (an account to convert into, a
# reseller's lead, the opportunity a duplicate merged into) ----------------------------

LOOKUPS: dict[str, Any] = {
    "accounts": lambda user: (Account.objects.visible_to(user), None),
    "leads": lambda user: (Lead.objects.editable_by(user), LeadSearch.objects.editable_by(user)),
    "opportunities": lambda user: (Opportunity.objects.visible_to(user).select_related("account"), None),
}


def lookup(user: User, kind: str, term: str) -> list[Any]:
    """Up to SHOWN records of `kind` the user may pick (see, or for leads change) whose
    searchable fields hold every word of `term`, newest first: the global search's rules."""
    queryset, index = LOOKUPS[kind](user)
    return newest_matching(queryset, words_of(term), index=index)
