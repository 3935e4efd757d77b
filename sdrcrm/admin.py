from django.contrib import admin
from django.contrib.auth.admin import UserAdmin as BaseUserAdmin

from .models import JobRun, Notification, Team, User


@admin.register(User)
class UserAdmin(BaseUserAdmin):
    list_display = ["username", "first_name", "last_name", "role", "team", "region", "is_available", "is_active"]
    list_filter = ["role", "region", "team", "is_available", "is_active"]
    fieldsets = (
        *BaseUserAdmin.fieldsets,
        ("Sales development", {"fields": ("role", "region", "sub_region", "segment", "team", "manager",
                                          "is_available", "ramp_start_date", "monthly_sao_quota",
                                          "monthly_iacv_quota")}),
    )
    add_fieldsets = (
        *BaseUserAdmin.add_fieldsets,
        ("Sales development", {"fields": ("role", "region", "team", "manager")}),
    )
    raw_id_fields = ["manager"]


@admin.register(Team)
class TeamAdmin(admin.ModelAdmin):
    list_display = ["name", "manager", "region"]
    raw_id_fields = ["manager"]


@admin.register(JobRun)
class JobRunAdmin(admin.ModelAdmin):
    list_display = ["name", "slot", "state", "started_at", "finished_at", "counts"]
    list_filter = ["name", "state"]
    readonly_fields = ["name", "slot", "state", "started_at", "finished_at", "counts", "errors"]


@admin.register(Notification)
class NotificationAdmin(admin.ModelAdmin):
    list_display = ["user", "kind", "message", "created_at", "read_at"]
    list_filter = ["kind"]
    raw_id_fields = ["user", "lead"]
