"""Ops pages for routing (docs/rules.md §2): the rule sets (a draft from the active one, its
rules edited in a form, a past week replayed, activation) and the pools (members, weights,
who is available). The rules are routing.rulesets' and routing.pools'; ops only."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from typing import Any

from django import forms
from django.contrib import messages
from django.db.models import Prefetch
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.http import require_POST

from sdrcrm import views
from sdrcrm.errors import Refused
from sdrcrm.ids import as_id
from sdrcrm.models import PROSPECTING_ROLES, SELLING_ROLES, Region, Segment, User

from . import engine, geo, pools, rulesets, territories
from .models import Pool, PoolMember, RoutingRule, RuleSet, Territory
from .replay import replay

REPLAY_DAYS = 7
LONGEST_REPLAY = timedelta(days=92)


ops_only = views.ops_only("Routing rules, pools and territories are Sales-Dev Ops' to change.")


# --- Rule sets --------------------------------------------------------------------------


@ops_only
def ruleset_list(request: HttpRequest) -> HttpResponse:
    return render(request, "routing/rulesets.html", {
        "rulesets": RuleSet.objects.select_related("created_by").order_by("-version")[:50]})


@ops_only
@require_POST
def ruleset_new(request: HttpRequest) -> HttpResponse:
    draft = rulesets.create_draft(by=request.user)
    messages.success(request, f"Draft v{draft.version}: a copy of the active rules, yours to edit.")
    return redirect("routing:ruleset", pk=draft.pk)


@ops_only
def ruleset_detail(request: HttpRequest, pk: int) -> HttpResponse:
    ruleset = get_object_or_404(RuleSet, pk=pk)
    rules = list(RoutingRule.objects.filter(ruleset=ruleset).order_by("position"))
    if request.method == "POST":
        try:
            rulesets.update_draft(ruleset, {"note": request.POST.get("note", "")[:200],
                                            "rules": [_rule_from_form(request.POST, rule) for rule in rules]})
        except Refused as exc:
            messages.error(request, f"Not saved. {exc.message}")
        else:
            messages.success(request, f"Draft v{ruleset.version} saved.")
        return redirect("routing:ruleset", pk=pk)
    start, end, report = _replay(request, ruleset)
    return render(request, "routing/ruleset_detail.html", {
        "ruleset": ruleset, "editable": ruleset.state == RuleSet.State.DRAFT,
        "rules": [(rule, _param_fields(rule)) for rule in rules],
        "pool_names": sorted(Pool.objects.values_list("name", flat=True)),
        "start": start, "end": end, "report": report.as_dict() if report else None,
    })


@ops_only
@require_POST
def ruleset_activate(request: HttpRequest, pk: int) -> HttpResponse:
    ruleset = get_object_or_404(RuleSet, pk=pk)
    try:
        rulesets.activate(ruleset)
    except Refused as exc:
        messages.error(request, exc.message)
    else:
        messages.success(request, f"Rule set v{ruleset.version} is active: routing uses it from now on.")
    return redirect("routing:ruleset", pk=pk)


def _param_fields(rule: RoutingRule) -> list[tuple[str, str]]:
    """The pools a rule names, as (path, pool name) form fields: its params over the
    engine's defaults, one field per region or segment where the rule has one per each."""
    fields = []
    for key, default in engine.DEFAULT_PARAMS.get(rule.kind, {}).items():
        value = rule.params.get(key, default)
        if isinstance(value, dict):
            fields += [(f"{key}.{sub}", str(name)) for sub, name in value.items()]
        else:
            fields.append((key, str(value)))
    return fields


def _rule_from_form(post: Any, rule: RoutingRule) -> dict[str, Any]:
    prefix = f"rule-{rule.pk}-"
    try:
        position = int(post.get(prefix + "position", rule.position))
    except ValueError:
        raise Refused(f"Rule {rule.position}'s position is a whole number.", field="rules") from None
    if not 1 <= position <= 1000:
        raise Refused(f"Rule {rule.position}'s position is between 1 and 1000.", field="rules")
    params: dict[str, Any] = {}
    for path, current in _param_fields(rule):
        value = post.get(prefix + "param-" + path, current)
        key, _, sub = path.partition(".")
        if sub:
            params.setdefault(key, {})[sub] = value
        else:
            params[key] = value
    label = (post.get(prefix + "label") or rule.label).strip()[:200]
    return {"position": position, "kind": rule.kind, "label": label, "params": params,
            "enabled": post.get(prefix + "enabled") == "on"}


def _replay(request: HttpRequest, ruleset: RuleSet) -> tuple[date, date, Any]:
    """The replay the page asks for (?start=&end=, days in UTC, both included); the form's
    last week when it asks for none."""
    today = datetime.now(UTC).date()
    start, end = today - timedelta(days=REPLAY_DAYS), today
    if "start" not in request.GET:
        return start, end, None
    try:
        start, end = date.fromisoformat(request.GET["start"]), date.fromisoformat(request.GET.get("end", ""))
    except ValueError:
        messages.error(request, "Give the replay's first and last day as dates.")
        return start, end, None
    if end < start or end - start > LONGEST_REPLAY:
        messages.error(request, "The last day comes after the first, at most 92 days later.")
        return start, end, None
    since = datetime.combine(start, time.min, tzinfo=UTC)
    return start, end, replay(ruleset, since, datetime.combine(end + timedelta(days=1), time.min, tzinfo=UTC))


# --- Pools ------------------------------------------------------------------------------


@ops_only
def pool_list(request: HttpRequest) -> HttpResponse:
    members = Prefetch("members", queryset=PoolMember.objects.select_related("user").order_by("position", "id"))
    return render(request, "routing/pools.html", {
        "pools": Pool.objects.prefetch_related(members).order_by("name"),
        "users": User.objects.filter(is_active=True, role__in=pools.MEMBER_ROLES).order_by("username"),
    })


@ops_only
@require_POST
def pool_edit(request: HttpRequest, pk: int) -> HttpResponse:
    pool = get_object_or_404(Pool, pk=pk)
    current = list(PoolMember.objects.filter(pool=pool).select_related("user").order_by("position", "id"))
    try:
        members = [_member_from_form(request.POST, member.user, f"member-{member.pk}-")
                   for member in current if not request.POST.get(f"member-{member.pk}-remove")]
        added = request.POST.get("add-user")
        if added:
            user = User.objects.filter(pk=as_id(added) or 0, is_active=True).first()
            if user is None:
                raise Refused("Pick an active user to add.", field="add-user")
            members.append(_member_from_form(request.POST, user, "add-"))
        pools.save_pool(pool, {}, members)
    except Refused as exc:
        messages.error(request, f"{pool.name} not saved. {exc.message}")
    else:
        messages.success(request, f"{pool.name} saved: {len(members)} member{'s' if len(members) != 1 else ''}.")
    return redirect("routing:pools")


@ops_only
@require_POST
def availability(request: HttpRequest, pk: int) -> HttpResponse:
    user = get_object_or_404(User, pk=pk, is_active=True)
    available = request.POST.get("available") == "1"
    pools.set_available(user, available)
    said = "back: round robin gives them leads again" if available else "away: round robin skips them"
    messages.success(request, f"{user.get_full_name() or user.username} is {said}.")
    return redirect("routing:pools")


def _member_from_form(post: Any, user: User, prefix: str) -> dict[str, Any]:
    try:
        position, weight = int(post.get(prefix + "position", 0)), int(post.get(prefix + "weight", 1))
    except ValueError:
        raise Refused(f"{user.username}: the position and the weight are whole numbers.") from None
    return {"user": user, "position": position, "weight": weight}


# --- Territories ------------------------------------------------------------------------


class TerritoryForm(forms.Form):
    """A territory's fields as the page sends them; routing/territories.py judges them."""

    name = forms.CharField(max_length=territories.NAME_LENGTH)
    region = forms.ChoiceField(choices=Region.choices)
    sub_region = forms.ChoiceField(required=False, label="Sub-region", choices=[("", "whole region")] + [
        (name, f"{Region(region).label} {name}") for region, names in geo.sub_regions().items() for name in names])
    countries = forms.CharField(required=False, max_length=500, help_text="ISO codes, e.g. DE AT CH; blank: any")
    segment = forms.ChoiceField(required=False, choices=[("", "any"), *Segment.choices])
    sdr = forms.ModelChoiceField(queryset=User.objects.filter(is_active=True, role__in=PROSPECTING_ROLES)
                                 .order_by("username"), label="SDR", empty_label=None)
    sal = forms.ModelChoiceField(queryset=User.objects.filter(is_active=True, role__in=SELLING_ROLES)
                                 .order_by("username"), label="SAL", required=False, empty_label="nobody")

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        for field in ("sdr", "sal"):
            self.fields[field].label_from_instance = lambda user: user.get_full_name() or user.username

    @classmethod
    def of(cls, territory: Territory) -> TerritoryForm:
        return cls(initial={field: getattr(territory, field) for field in
                            ("name", "region", "sub_region", "countries", "segment")}
                   | {"sdr": territory.sdr_id, "sal": territory.sal_id}, prefix=f"t{territory.pk}")


@ops_only
def territory_list(request: HttpRequest, bound: TerritoryForm | None = None, editing: int | None = None,
                   status: int = 200) -> HttpResponse:
    """Every territory with who covers it (changed in the row) and its geography (changed
    in the row's Edit form); a form for a new one. `bound`: a form sent back with its errors."""
    people = User.objects.filter(is_active=True).order_by("username")
    rows = [(territory, bound if bound is not None and editing == territory.pk else TerritoryForm.of(territory))
            for territory in Territory.objects.select_related("sdr", "sal").order_by("region", "name")]
    return render(request, "routing/territories.html", {
        "rows": rows, "editing": editing,
        "new_form": bound if bound is not None and editing is None else TerritoryForm(prefix="new"),
        "sdrs": [u for u in people if u.role in PROSPECTING_ROLES],
        "sellers": [u for u in people if u.role in SELLING_ROLES],
    }, status=status)


@ops_only
@require_POST
def territory_save(request: HttpRequest, pk: int | None = None) -> HttpResponse:
    """Create a territory (no `pk`) or change one's name, geography and cover."""
    territory = get_object_or_404(Territory, pk=pk) if pk is not None else None
    form = TerritoryForm(request.POST, prefix=f"t{pk}" if pk is not None else "new")
    if form.is_valid():
        try:
            saved = territories.save_territory(territory, **form.cleaned_data)
        except Refused as exc:
            form.add_error(exc.field if exc.field in form.fields else None, exc.message)
        else:
            messages.success(request, f"Territory {saved.name} saved; routing uses it from the next lead on.")
            return redirect("routing:territories")
    messages.error(request, "The territory was not saved; see the form below.")
    return territory_list(request, bound=form, editing=pk, status=400)


@ops_only
@require_POST
def territory_cover(request: HttpRequest, pk: int) -> HttpResponse:
    territory = get_object_or_404(Territory, pk=pk)
    sdr, sal = (_user(request.POST.get(field)) for field in ("sdr", "sal"))
    try:
        territories.cover(territory, sdr, sal)
    except Refused as exc:
        messages.error(request, f"{territory.name} not changed. {exc.message}")
    else:
        messages.success(request, f"{territory.name}: {sdr.get_full_name() or sdr.username} covers it"
                                  f"{f', with {sal.get_full_name() or sal.username}' if sal else ''}.")
    return redirect("routing:territories")


def _user(value: str | None) -> User | None:
    pk = as_id(value)
    return User.objects.filter(pk=pk).first() if pk is not None else None
