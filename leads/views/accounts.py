"""Account pages (docs/rules.md §9): the list of accounts one may see, and an account with its
people, opportunities and tier. What a user may not see is not found."""

from __future__ import annotations

import re

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.db.models import Q, QuerySet
from django.http import HttpRequest, HttpResponse, QueryDict
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.views.decorators.http import require_POST
from rest_framework.exceptions import ValidationError

from leads import accounts, domains, tiers
from leads.models import Account, BulkAction, Contact, Lead
from opportunities import services as opportunity_services
from opportunities.models import Opportunity
from opportunities.views.opportunities import new_opportunity_form
from sdrcrm import exports
from sdrcrm.errors import Refused
from sdrcrm.models import User
from sdrcrm.pagination import Keyset

from .bulk_bar import bulk_context

# Sorted and searched by the normalised name ("acme" for "ACME, Inc."): it is indexed,
# so a page and a prefix search cost the same at any number of accounts.
KEYSET = Keyset(["name_key", "created_at"], default="name_key", page_size=50)
SORTS = [("name_key", "Name"), ("-created_at", "Newest")]
PEOPLE_CAP = 50


def search_key(term: str) -> str:
    """The name-key prefix a search term stands for: 'ACME, Inc.' → 'acme'. A term that
    is only a company suffix ('Co') is kept as typed, not dropped."""
    return domains.normalise_company(term) or " ".join(re.sub(r"[^\w\s]", " ", term.lower()).split())


def filtered_accounts(user: User, params: QueryDict) -> tuple[QuerySet[Account], str]:
    """The list's accounts for its search, within what the user may see; with the term."""
    term = params.get("q", "").strip()[:100]
    accounts = Account.objects.visible_to(user).select_related("owner")
    key = search_key(term) if term else ""
    if key:
        accounts = accounts.filter(name_key__startswith=key)
    return accounts, term


def accounts_matching(user: User, params: QueryDict) -> QuerySet[Account]:
    """The list's accounts in its order (an unknown sort: the default one); its bulk
    actions start here."""
    try:
        ordering = KEYSET.ordering(params.get("ordering"))
    except ValidationError:
        ordering = KEYSET.default
    return filtered_accounts(user, params)[0].order_by(ordering, "-id" if ordering.startswith("-") else "id")


@login_required
def account_list(request: HttpRequest) -> HttpResponse:
    user: User = request.user
    accounts, term = filtered_accounts(user, request.GET)
    try:
        ordering = KEYSET.ordering(request.GET.get("ordering"))
        rows, next_cursor = KEYSET.page(accounts, ordering, request.GET.get("cursor"), KEYSET.page_size)
    except ValidationError:
        messages.error(request, "That page link or sort is out of date; showing the first page.")
        return redirect("accounts:list")
    params = request.GET.copy()
    params.pop("cursor", None)
    return render(request, "leads/account_list.html", {
        "accounts": rows, "q": term, "sorts": SORTS, "ordering": ordering, "next_cursor": next_cursor,
        "base_query": params.urlencode(), **bulk_context(BulkAction.Record.ACCOUNT, user),
    })


EXPORT_COLUMNS = [
    ("id", "id"), ("name", "name"), ("domain", "domain"), ("type", "type"), ("segment", "segment"),
    ("region", "region"), ("tier", "tier"), ("country", "country"), ("owner__username", "owner"),
    ("targeted", "targeted"), ("created_at", "created at"),
]


@login_required
def account_export(request: HttpRequest) -> HttpResponse:
    """The account list as CSV: the same search, sort and access as the page, every row."""
    rows = (accounts_matching(request.user, request.GET).values_list(*[name for name, _ in EXPORT_COLUMNS])
            .iterator(chunk_size=2000))
    return exports.csv_response(f"accounts-{timezone.now():%Y%m%d-%H%M}.csv",
                                [label for _, label in EXPORT_COLUMNS], rows)


@login_required
def account_detail(request: HttpRequest, pk: int) -> HttpResponse:
    user: User = request.user
    account = get_object_or_404(
        Account.objects.visible_to(user).select_related("owner", "bdr_assigned", "parent", "targeted_by"), pk=pk)
    # One query per list, each capped (one more row tells whether there are more), and only
    # the people and deals the user may see.
    leads = list(Lead.objects.visible_to(user).filter(account=account).select_related("owner", "queue")
                 .order_by("-created_at", "-id")[:PEOPLE_CAP + 1])
    contacts = list(Contact.objects.visible_to(user).filter(account=account).select_related("owner")
                    .order_by("last_name", "id")[:PEOPLE_CAP + 1])
    opportunities = list(Opportunity.objects.visible_to(user)
                         .filter(Q(account=account) | Q(reseller_account=account))
                         .select_related("owner", "account").order_by("-created_at", "-id")[:PEOPLE_CAP + 1])
    return render(request, "leads/account_detail.html", {
        "account": account,
        "leads": leads[:PEOPLE_CAP], "more_leads": len(leads) > PEOPLE_CAP,
        "contacts": contacts[:PEOPLE_CAP], "more_contacts": len(contacts) > PEOPLE_CAP,
        "opportunities": opportunities[:PEOPLE_CAP], "more_opportunities": len(opportunities) > PEOPLE_CAP,
        "cap": PEOPLE_CAP,
        "qualifiers": [tiers.LABELS[key] for key in tiers.qualifiers_of(account)],
        "may_target": accounts.may_target(user),
        "may_unflag": accounts.may_unflag(user, account),
        "new_opportunity": new_opportunity_form(account, user, contacts=contacts[:PEOPLE_CAP])
        if opportunity_services.may_create_opportunity(user) else None,
    })


@login_required
@require_POST
def account_target(request: HttpRequest, pk: int) -> HttpResponse:
    """Flag or unflag the account as targeted by you (docs/rules.md §5: at most 40 per SDR)."""
    user: User = request.user
    account = get_object_or_404(Account.objects.visible_to(user), pk=pk)
    flag = request.POST.get("targeted") == "on"
    try:
        accounts.set_targeted(account, flag, by=user)
    except Refused as exc:
        messages.error(request, exc.message)
    else:
        messages.success(request, "Targeted." if flag else "No longer targeted.")
    return redirect("accounts:detail", pk=pk)
