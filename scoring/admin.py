from typing import Any

from django.contrib import admin
from django.http import HttpRequest

from . import services
from .models import ScoreEntry, ScoringRule, ScoringRuleChange


class ScoringRuleChangeInline(admin.TabularInline):
    model = ScoringRuleChange
    extra = 0
    can_delete = False
    readonly_fields = ["version", "old", "new", "by", "at"]

    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


@admin.register(ScoringRule)
class ScoringRuleAdmin(admin.ModelAdmin):
    list_display = ["key", "label", "points", "counting", "activity_type", "condition", "version"]
    list_editable = ["points"]
    readonly_fields = ["key", "activity_type", "condition", "version", "updated_at"]
    inlines = [ScoringRuleChangeInline]

    def save_model(self, request: HttpRequest, obj: ScoringRule, form: Any, change: bool) -> None:
        # Through the service, so the change is versioned, audited and re-scored.
        fields = [field for field in services.EDITABLE_RULE_FIELDS if field in form.cleaned_data]
        services.update_rule(obj, {field: form.cleaned_data[field] for field in fields}, by=request.user)


    def has_add_permission(self, request: HttpRequest) -> bool:
        return False  # the rule set is the seeded table; ops tune it

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


@admin.register(ScoreEntry)
class ScoreEntryAdmin(admin.ModelAdmin):
    list_display = ["lead", "contact", "rule_key", "rule_version", "points", "reason", "at"]
    raw_id_fields = ["lead", "contact", "activity"]
    show_full_result_count = False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False  # the ledger is append-only
