"""Accounts: the companies leads are matched to and contacts belong to."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q

from sdrcrm.models import Region, Segment, User

from .deletion import LiveManager, SoftDeletable

USER = settings.AUTH_USER_MODEL


class AccountType(models.TextChoices):
    PROSPECT = "prospect", "Prospect"
    CUSTOMER = "customer", "Customer"
    FORMER_CUSTOMER = "former_customer", "Former customer"
    PARTNER = "partner", "Partner"
    RESELLER = "reseller", "Reseller"


class ProspectingStatus(models.TextChoices):
    ACTIVELY_WORKING = "actively_working", "Actively working"
    NOT_WORKING = "not_working", "Not working"
    RESTRICTED = "restricted", "Restricted"


class AccountQuerySet(models.QuerySet["Account"]):
    def visible_to(self, user: User) -> AccountQuerySet:
        """Sales development reads every account (they prospect into them); sellers
        read the accounts they own; integrations the ones they created."""
        if not user.is_authenticated:
            return self.none()
        if user.is_ops or user.is_manager or user.is_prospector:
            return self
        if user.role in ("sal", "ae"):
            return self.filter(owner=user)
        if user.role == "integration":
            return self.filter(created_by=user)
        return self.none()

    def editable_by(self, user: User) -> AccountQuerySet:
        if user.is_ops or user.is_manager:
            return self
        if user.is_prospector:
            return self.filter(bdr_assigned=user)
        return self.visible_to(user)


class Account(SoftDeletable):
    name = models.CharField(max_length=255)
    # Normalised name ("acme" for "ACME, Inc."), for lead-to-account matching.
    name_key = models.CharField(max_length=255, db_index=True, editable=False, default="")
    domain = models.CharField(max_length=253, blank=True, db_index=True)
    industry = models.CharField(max_length=100, blank=True)
    employee_count = models.PositiveIntegerField(null=True, blank=True)
    country = models.CharField(max_length=2, blank=True, help_text="ISO 3166-1 alpha-2")
    state = models.CharField(max_length=100, blank=True)
    type = models.CharField(max_length=20, choices=AccountType.choices, default=AccountType.PROSPECT)
    parent = models.ForeignKey("self", null=True, blank=True, on_delete=models.SET_NULL, related_name="children")
    owner = models.ForeignKey(USER, null=True, blank=True, on_delete=models.SET_NULL, related_name="owned_accounts")
    bdr_assigned = models.ForeignKey(
        USER, null=True, blank=True, on_delete=models.SET_NULL, related_name="bdr_accounts"
    )
    bdr_prospecting_status = models.CharField(
        max_length=20, choices=ProspectingStatus.choices, default=ProspectingStatus.NOT_WORKING
    )
    is_named = models.BooleanField(default=False)
    abm_tier = models.PositiveSmallIntegerField(null=True, blank=True, choices=[(1, "Tier 1"), (2, "Tier 2")])
    targeted = models.BooleanField(default=False)
    targeted_by = models.ForeignKey(
        USER, null=True, blank=True, on_delete=models.SET_NULL, related_name="targeted_accounts"
    )
    # When it was flagged: the targeted_accounts job counts 30 quiet days from here at most.
    targeted_at = models.DateTimeField(null=True, blank=True)
    tier = models.CharField(max_length=1, blank=True, choices=[(t, t) for t in "ABCDF"])
    public_sector = models.BooleanField(default=False)
    using_ce = models.BooleanField(default=False)
    ce_active_users = models.PositiveIntegerField(default=0)
    tech_stack = models.TextField(blank=True)
    # Two of the five tier qualifiers (docs/rules.md §5) that no other field holds.
    it_employees = models.PositiveIntegerField("IT/TEDD employees", null=True, blank=True)
    devops_adoption = models.BooleanField(
        default=False, help_text="Multiple DevOps roles on staff, or hiring for several"
    )
    carr = models.DecimalField(max_digits=14, decimal_places=2, default=0)
    # Derived (routing/segmentation, docs/rules.md §2); stored so views can filter on them.
    segment = models.CharField(max_length=20, choices=Segment.choices, default=Segment.UNKNOWN)
    region = models.CharField(max_length=10, choices=Region.choices, blank=True)
    created_by = models.ForeignKey(USER, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    objects = LiveManager.from_queryset(AccountQuerySet)()
    all_objects = AccountQuerySet.as_manager()  # deleted ones too (leads/models/deletion.py)

    class Meta:
        indexes = [
            models.Index(fields=["created_at", "id"], name="account_created"),
            models.Index(fields=["targeted_by", "id"], name="account_targeted", condition=Q(targeted=True)),
            models.Index(fields=["deleted_at", "id"], name="account_deleted", condition=Q(deleted_at__isnull=False)),
        ]

    def __str__(self) -> str:
        return self.name

