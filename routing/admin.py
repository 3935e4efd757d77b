from typing import Any

from django.contrib import admin
from django.http import HttpRequest

from . import pools
from .models import Pool, PoolMember, RoutingDecision, RoutingRule, RuleSet, Territory


class PoolMemberInline(admin.TabularInline):
    model = PoolMember
    extra = 1
    raw_id_fields = ["user"]
    readonly_fields = ["credit", "assigned"]


@admin.register(Pool)
class PoolAdmin(admin.ModelAdmin):
    """Members are saved through pools.save_pool, which locks them in round robin's order
    (so an edit waits for routing rather than deadlocking with it) and keeps the turn
    state of the members who stay."""

    list_display = ["name", "description"]
    inlines = [PoolMemberInline]

    def save_model(self, request: HttpRequest, obj: Pool, form: Any, change: bool) -> None:
        pools.save_pool(obj, {}, None)

    def save_related(self, request: HttpRequest, form: Any, formsets: Any, change: bool) -> None:
        members = [
            {"user": row["user"], "position": row["position"], "weight": row["weight"]}
            for formset in formsets for row in formset.cleaned_data
            if row and not row.get("DELETE")
        ]
        pools.save_pool(form.instance, {}, members)
        for formset in formsets:  # what the admin's change message reads of a formset it saved
            formset.new_objects, formset.changed_objects, formset.deleted_objects = [], [], []


@admin.register(Territory)
class TerritoryAdmin(admin.ModelAdmin):
    list_display = ["name", "region", "sub_region", "countries", "segment", "sdr", "sal"]
    list_filter = ["region", "segment"]
    raw_id_fields = ["sdr", "sal"]


class RoutingRuleInline(admin.TabularInline):
    model = RoutingRule
    extra = 0


@admin.register(RuleSet)
class RuleSetAdmin(admin.ModelAdmin):
    """Rules of a draft are edited here; activation goes through the API (or the service),
    which retires the previous version."""

    list_display = ["version", "state", "note", "created_at", "activated_at"]
    readonly_fields = ["state", "activated_at"]
    inlines = [RoutingRuleInline]

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return obj is None or obj.state == RuleSet.State.DRAFT


@admin.register(RoutingDecision)
class RoutingDecisionAdmin(admin.ModelAdmin):
    list_display = ["lead", "action", "rule_kind", "owner", "pool", "queue", "at"]
    list_filter = ["action", "rule_kind"]
    raw_id_fields = ["lead", "owner"]
    show_full_result_count = False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False  # the decision log is append-only
