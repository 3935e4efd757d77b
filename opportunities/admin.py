"""Ops' admin for opportunities. The stage and its snapshots are read-only here: they change only
through services.change_stage, so every move is checked and leaves a StageChange row. Edits go
through services.update_opportunity, under the same rules as the API and the pages."""

from __future__ import annotations

from typing import Any

from django import forms
from django.contrib import admin
from django.core.exceptions import ValidationError
from django.db.models import QuerySet
from django.http import HttpRequest

from leads.admin import SoftDeleteAdmin
from sdrcrm.errors import Refused

from . import services
from .models import Opportunity, StageChange

# In the order the change page shows them; the ones not in services.EDITABLE_FIELDS are read-only.
ADMIN_FIELDS = [
    "name", "account", "primary_contact", "reseller_contact", "reseller_account", "lead", "owner", "sdr", "stage",
    "stage_changed_at", "iacv", "amount", "close_date", "next_step_date", "source", "professional_services",
    "authority_confirmed", "business_problem", "initiative", "current_tools", "entry_use_case", "potential_seats",
    "deployment_preference", "tech_stack", "competition", "sales_accepted_date", "sales_qualified",
    "sales_qualified_date", "initial_iacv", "closed_at", "closed_lost_reason", "closed_lost_details",
    "closed_won_details", "merged_into", "stale_reminded_at", "created_by", "created_at", "updated_at",
]


class OpportunityAdminForm(forms.ModelForm):
    class Meta:
        model = Opportunity
        fields = [field for field in ADMIN_FIELDS if field in services.EDITABLE_FIELDS]

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean()
        if self.instance.pk and not self.errors:
            current = Opportunity.objects.select_related("owner", "sdr", "account").get(pk=self.instance.pk)
            changes = {field: cleaned[field] for field in self.changed_data if field in cleaned}
            try:
                services.check_update(current, changes)
            except Refused as refused:
                raise ValidationError({refused.field: refused.message} if refused.field in self.fields
                                      else refused.message) from None
        return cleaned


class StageChangeInline(admin.TabularInline):
    model = StageChange
    fields = ["old", "new", "by", "at"]
    readonly_fields = fields
    extra = 0
    can_delete = False
    ordering = ["-at", "-id"]

    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def get_queryset(self, request: HttpRequest) -> QuerySet:
        return super().get_queryset(request).select_related("by")


@admin.register(Opportunity)
class OpportunityAdmin(SoftDeleteAdmin):
    form = OpportunityAdminForm
    list_display = ["name", "account", "stage", "owner", "sdr", "iacv", "sales_accepted_date", "sales_qualified",
                    "created_at"]
    list_select_related = ["account", "owner", "sdr"]  # nullable keys: Django would not join them
    list_filter = ["stage", "source", "sales_qualified", "professional_services"]
    search_fields = ["name"]
    show_full_result_count = False
    raw_id_fields = ["account", "primary_contact", "reseller_contact", "reseller_account", "lead", "owner", "sdr"]
    fields = ADMIN_FIELDS
    readonly_fields = [field for field in ADMIN_FIELDS if field not in services.EDITABLE_FIELDS]
    inlines = [StageChangeInline]

    def has_add_permission(self, request: HttpRequest) -> bool:
        # A new opportunity needs its first StageChange and the creation rules: the API, the
        # pages and lead conversion make them.
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        # The admin is no way around "from 1-Discovery on only the owner and ops edit".
        if not super().has_change_permission(request, obj):
            return False
        return obj is None or Opportunity.objects.editable_by(request.user).filter(pk=obj.pk).exists()

    def save_model(self, request: HttpRequest, obj: Opportunity, form: forms.ModelForm, change: bool) -> None:
        changes = {field: form.cleaned_data[field] for field in form.changed_data}
        services.update_opportunity(obj, changes, by=request.user)


@admin.register(StageChange)
class StageChangeAdmin(admin.ModelAdmin):
    list_display = ["opportunity", "old", "new", "by", "at"]
    list_select_related = ["opportunity", "by"]
    list_filter = ["new"]
    show_full_result_count = False
    raw_id_fields = ["opportunity", "by"]

    def has_add_permission(self, request: HttpRequest) -> bool:  # history is append-only
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False
