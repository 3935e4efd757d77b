"""Ops' admin. Every save goes through the same services as the API and the pages
(people.update_person, accounts.save_account, the ingest pipeline for a new lead), so the
same checks apply and field history is written in one place. Status is read-only here:
it changes only through lifecycle.transition, so every change leaves a history row.
Nothing is deleted for good from here: a lead, contact or account deleted here is soft-deleted
through leads/trash.py (hidden, audited, restorable by ops from Recently deleted), as on the
pages and the API; a lead may also be marked as spam (deleted at night, leaving a tombstone)
or merged, a person marked inactive."""

from typing import Any

from django.contrib import admin, messages
from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Model
from django.forms.models import BaseInlineFormSet
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect

from sdrcrm.errors import Refused

from . import accounts, people, sequences, services, trash
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


class DryRun(Exception):
    """Rolls back a service call made only to hear its refusals."""


class ServiceAdmin(admin.ModelAdmin):
    """Saves through the app's services; deletes nothing (see the module docstring).

    The form asks the service itself, in a savepoint it then rolls back, so every refusal
    the API would give (a blocked email, an owner one may not assign) shows on the form
    instead of failing the save; the save then calls the service for real."""

    def get_form(self, request, obj=None, change=False, **kwargs):  # noqa: ANN001, ANN003, ANN201 - Django's
        form_class = super().get_form(request, obj, change=change, **kwargs)
        model_admin = self

        class ServiceCheckedForm(form_class):  # type: ignore[misc, valid-type]
            def clean(self) -> dict[str, Any]:
                cleaned = super().clean()
                if not self.errors:
                    changes = {field: cleaned[field] for field in self.changed_data if field in cleaned}
                    try:
                        with transaction.atomic():
                            model_admin.run(self.instance.pk and type(self.instance).objects.get(pk=self.instance.pk),
                                            changes if self.instance.pk else dict(cleaned), request.user)
                            raise DryRun
                    except DryRun:
                        pass
                    except Refused as refused:
                        raise ValidationError({refused.field: refused.message} if refused.field in self.fields
                                              else refused.message) from None
                return cleaned

        return ServiceCheckedForm

    def save_model(self, request, obj, form, change):  # noqa: ANN001, ANN201 - Django's signature
        # The form has already set the new values on `obj`: the service gets the row as it
        # was, and the changed fields with their new values.
        if change:
            current = type(obj).objects.get(pk=obj.pk)
            self.run(current, {field: getattr(obj, field) for field in form.changed_data}, request.user)
        else:
            fields = {f.name: getattr(obj, f.name) for f in obj._meta.concrete_fields
                      if f.editable and not f.primary_key and f.name not in self.get_readonly_fields(request, None)}
            obj.pk = self.run(None, fields, request.user).pk

    def run(self, current: Model | None, data: dict[str, Any], by: Any) -> Model:
        """Create the record from `data` (`current` None), or change `current` by it."""
        raise NotImplementedError

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


class SoftDeleteAdmin(admin.ModelAdmin):
    """The admin's delete view and delete action go through leads/trash.py: a soft delete,
    audited, restorable by ops; never the admin's own cascade of hard deletes. Who may
    delete which record, and what must be moved first, is the service's to say."""

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        user = request.user
        return bool(user.is_authenticated and (user.is_ops or user.is_manager))

    def get_deleted_objects(self, objs: Any, request: HttpRequest) -> tuple[list[str], dict, set, list]:
        # The confirmation lists only the records themselves: nothing else goes with them.
        return [str(obj) for obj in objs], {}, set(), []

    def delete_view(self, request: HttpRequest, object_id: str, extra_context: Any = None) -> HttpResponse:
        if request.method == "POST":
            obj = self.get_object(request, object_id)
            if obj is not None:
                try:
                    trash.check_delete(obj, request.user)
                except Refused as refused:
                    self.message_user(request, refused.message, messages.ERROR)
                    return redirect(request.path.rsplit("/delete/", 1)[0] + "/change/")
        return super().delete_view(request, object_id, extra_context)

    def delete_model(self, request: HttpRequest, obj: Model) -> None:
        trash.delete_record(obj, by=request.user)

    def delete_queryset(self, request: HttpRequest, queryset: Any) -> None:
        """All or none, in one transaction: a refusal of one record keeps every one."""
        try:
            with transaction.atomic():
                for obj in queryset:
                    trash.delete_record(obj, by=request.user)
        except Refused as refused:
            self.message_user(request, f"Nothing was deleted: {refused.message}", messages.ERROR)


class PersonAdmin(SoftDeleteAdmin, ServiceAdmin):
    show_full_result_count = False  # no COUNT(*) over a million rows per page
    derived: list[str] = []  # worked out by the services on every save

    def get_readonly_fields(self, request: HttpRequest, obj: Any = None) -> list[str]:
        # The source of a new person is given once, on creation.
        fields = PERSON_READONLY if obj is not None else [f for f in PERSON_READONLY if f != "initial_source"]
        return [*fields, *self.derived]


@admin.register(Lead)
class LeadAdmin(PersonAdmin):
    list_display = ["email", "first_name", "last_name", "company", "status", "score", "owner", "queue"]
    list_filter = ["status", "segment", "region", "initial_source"]
    search_fields = ["email", "last_name", "company"]
    raw_id_fields = ["owner", "account", "converted_to"]
    derived = ["email_domain", "segment", "region", "sub_region"]  # routing.facts.classify

    def run(self, current: Model | None, data: dict[str, Any], by: Any) -> Model:
        if current is None:
            # The lead's source is the one it comes in with, as for any ingest.
            return services.ingest_lead({k: v for k, v in data.items() if k != "lead_source"}, by=by).lead
        return people.update_person(current, data, by=by)


@admin.register(Contact)
class ContactAdmin(PersonAdmin):
    list_display = ["email", "first_name", "last_name", "account", "status", "owner"]
    list_filter = ["status", "segment", "region"]
    search_fields = ["email", "last_name", "company"]
    raw_id_fields = ["owner", "account"]

    def run(self, current: Model | None, data: dict[str, Any], by: Any) -> Model:
        if current is None:
            return people.create_contact(data, by=by)
        return people.update_person(current, data, by=by)


@admin.register(Account)
class AccountAdmin(SoftDeleteAdmin, ServiceAdmin):
    list_display = ["name", "domain", "type", "segment", "region", "owner", "tier"]
    list_filter = ["type", "segment", "region", "tier", "is_named"]
    search_fields = ["name", "domain"]
    raw_id_fields = ["parent", "owner", "bdr_assigned"]
    # Derived on save, or flagged by SDRs under their limit (accounts/{id}/target/).
    readonly_fields = ["tier", "segment", "region", "targeted", "targeted_by", "targeted_at"]

    def run(self, current: Model | None, data: dict[str, Any], by: Any) -> Model:
        # save_account derives domain, region, tier and the hierarchy's segments.
        return accounts.save_account(current or Account(created_by=by), data, by=by)


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
