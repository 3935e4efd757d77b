"""Ops' admin. Status is read-only here: it changes only through services.transition, so
every change leaves a history row."""

from django.contrib import admin

from .models import Account, Activity, BlockedDomain, Contact, Lead, Queue, StatusChange

PERSON_READONLY = ["status", "status_reason", "status_changed_at", "score", "mql_at", "last_mql_at",
                   "initial_source", "created_at", "updated_at", "created_by"]


@admin.register(Lead)
class LeadAdmin(admin.ModelAdmin):
    list_display = ["email", "first_name", "last_name", "company", "status", "score", "owner", "queue"]
    list_filter = ["status", "segment", "region", "initial_source"]
    search_fields = ["email", "last_name", "company"]
    show_full_result_count = False  # no COUNT(*) over a million leads per page
    raw_id_fields = ["owner", "account", "converted_to"]
    readonly_fields = PERSON_READONLY


@admin.register(Contact)
class ContactAdmin(admin.ModelAdmin):
    list_display = ["email", "first_name", "last_name", "account", "status", "owner"]
    list_filter = ["status", "segment", "region"]
    search_fields = ["email", "last_name", "company"]
    show_full_result_count = False
    raw_id_fields = ["owner", "account"]
    readonly_fields = PERSON_READONLY


@admin.register(Account)
class AccountAdmin(admin.ModelAdmin):
    list_display = ["name", "domain", "type", "segment", "region", "owner", "tier"]
    list_filter = ["type", "segment", "region", "tier", "is_named"]
    search_fields = ["name", "domain"]
    raw_id_fields = ["parent", "owner", "bdr_assigned", "targeted_by"]


@admin.register(Activity)
class ActivityAdmin(admin.ModelAdmin):
    list_display = ["type", "lead", "contact", "occurred_at", "source_system"]
    list_filter = ["type"]
    show_full_result_count = False
    raw_id_fields = ["lead", "contact", "created_by"]


@admin.register(StatusChange)
class StatusChangeAdmin(admin.ModelAdmin):
    list_display = ["lead", "contact", "old", "new", "reason", "cause", "by", "at"]
    list_filter = ["cause", "new"]
    show_full_result_count = False
    raw_id_fields = ["lead", "contact", "by"]

    def has_change_permission(self, request, obj=None):  # history is append-only
        return False


admin.site.register(Queue)
admin.site.register(BlockedDomain)
