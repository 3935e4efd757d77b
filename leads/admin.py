"""Ops' admin. Status is read-only here: it changes only through services.transition, so
every change leaves a history row."""

from django.contrib import admin
from django.core.exceptions import ValidationError
from django.forms.models import BaseInlineFormSet

from sdrcrm import field_history
from sdrcrm.errors import Refused

from . import sequences, services
from .models import (
    Account,
    Activity,
    BlockedDomain,
    Contact,
    Enrollment,
    Lead,
    Queue,
    Sequence,
    SequenceEvent,
    SequenceStep,
    StatusChange,
    Tombstone,
)

PERSON_READONLY = ["status", "status_reason", "status_changed_at", "score", "mql_at", "last_mql_at",
                   "initial_source", "created_at", "updated_at", "created_by"]


class FieldHistoryAdmin(admin.ModelAdmin):
    """An edit in the admin leaves field history like an edit through the services."""

    def save_model(self, request, obj, form, change):  # noqa: ANN001, ANN201 - Django's signature
        # The form has already set the new values on `obj`: the old ones come from the row.
        before = field_history.values_of(type(obj).objects.get(pk=obj.pk), form.changed_data) if change else None
        self.write(request, obj)
        if before is not None:
            field_history.record(obj, before, request.user)

    def write(self, request, obj):  # noqa: ANN001, ANN201
        obj.save()


@admin.register(Lead)
class LeadAdmin(FieldHistoryAdmin):
    list_display = ["email", "first_name", "last_name", "company", "status", "score", "owner", "queue"]
    list_filter = ["status", "segment", "region", "initial_source"]
    search_fields = ["email", "last_name", "company"]
    show_full_result_count = False  # no COUNT(*) over a million leads per page
    raw_id_fields = ["owner", "account", "converted_to"]
    readonly_fields = PERSON_READONLY


@admin.register(Contact)
class ContactAdmin(FieldHistoryAdmin):
    list_display = ["email", "first_name", "last_name", "account", "status", "owner"]
    list_filter = ["status", "segment", "region"]
    search_fields = ["email", "last_name", "company"]
    show_full_result_count = False
    raw_id_fields = ["owner", "account"]
    readonly_fields = PERSON_READONLY


@admin.register(Account)
class AccountAdmin(FieldHistoryAdmin):
    list_display = ["name", "domain", "type", "segment", "region", "owner", "tier"]
    list_filter = ["type", "segment", "region", "tier", "is_named"]
    search_fields = ["name", "domain"]
    raw_id_fields = ["parent", "owner", "bdr_assigned"]
    # Derived on save, or flagged by SDRs under their limit (accounts/{id}/target/).
    readonly_fields = ["tier", "segment", "region", "targeted", "targeted_by", "targeted_at"]

    def write(self, request, obj):  # noqa: ANN001, ANN201
        # The form set the fields; save_account derives domain, region, tier and segments.
        services.save_account(obj, {}, by=request.user)


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


class SequenceStepFormSet(BaseInlineFormSet):
    def clean(self) -> None:
        """The same step rules as the API (sequences.check_steps)."""
        super().clean()
        steps = sorted(
            (form.cleaned_data for form in self.forms
             if form.cleaned_data and not form.cleaned_data.get("DELETE")),
            key=lambda step: step["position"],
        )
        try:
            sequences.check_steps(steps, self.instance if self.instance.pk else None)
        except Refused as refused:
            raise ValidationError(refused.message) from None


class SequenceStepInline(admin.TabularInline):
    model = SequenceStep
    formset = SequenceStepFormSet
    extra = 1
    ordering = ["position"]


@admin.register(Sequence)
class SequenceAdmin(admin.ModelAdmin):
    """Ops build sequences here (or at /api/v1/sequences/); positions are unique per sequence."""

    list_display = ["name", "touch", "is_active", "created_at"]
    list_filter = ["touch", "is_active"]
    inlines = [SequenceStepInline]


class ReadOnlyAdmin(admin.ModelAdmin):
    """Enrolments, events and tombstones change only through their services (events are
    applied exactly once by a worker); the admin shows them."""

    def has_add_permission(self, request, obj=None) -> bool:  # type: ignore[no-untyped-def]
        return False

    def has_change_permission(self, request, obj=None) -> bool:  # type: ignore[no-untyped-def]
        return False


@admin.register(Enrollment)
class EnrollmentAdmin(ReadOnlyAdmin):
    list_display = ["id", "sequence", "lead", "contact", "state", "current_step", "finish_reason", "enrolled_at"]
    list_select_related = ["sequence", "lead", "contact"]
    list_filter = ["state", "finish_reason", "sequence"]
    raw_id_fields = ["lead", "contact"]
    show_full_result_count = False


@admin.register(SequenceEvent)
class SequenceEventAdmin(ReadOnlyAdmin):
    list_display = ["id", "enrollment", "kind", "step", "occurred_at", "received_at", "applied_at", "result"]
    list_select_related = ["enrollment__sequence", "enrollment__lead", "enrollment__contact"]
    list_filter = ["kind"]
    show_full_result_count = False


@admin.register(Tombstone)
class TombstoneAdmin(ReadOnlyAdmin):
    list_display = ["kind", "original_id", "email_domain", "marked_by", "marked_at", "deleted_at"]
    list_select_related = ["marked_by"]
    list_filter = ["kind"]
    search_fields = ["email_hash", "email_domain"]
