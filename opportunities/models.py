"""Opportunities, their stage history and IQMs (docs/rules.md §4)."""

from __future__ import annotations

from datetime import datetime, timedelta

from django.conf import settings
from django.db import models
from django.db.models import Q

from leads.models import LiveManager, SoftDeletable
from sdrcrm.models import User

USER = settings.AUTH_USER_MODEL


class Stage(models.TextChoices):
    PRE_OPPORTUNITY = "pre_opportunity", "00-Pre Opportunity"
    PENDING_ACCEPTANCE = "pending_acceptance", "0-Pending Acceptance"
    DISCOVERY = "discovery", "1-Discovery"
    SCOPING = "scoping", "2-Scoping"
    TECHNICAL_EVALUATION = "technical_evaluation", "3-Technical Evaluation"
    PROPOSAL = "proposal", "4-Proposal"
    NEGOTIATING = "negotiating", "5-Negotiating"
    AWAITING_SIGNATURE = "awaiting_signature", "6-Awaiting Signature"
    CLOSED_WON = "closed_won", "7-Closed Won"
    CLOSED_LOST = "closed_lost", "8-Closed Lost"
    UNQUALIFIED = "unqualified", "9-Unqualified"
    DUPLICATE = "duplicate", "10-Duplicate"


# Before acceptance: an SDR's stages. The open stages after discovery make it sales qualified.
UNACCEPTED_STAGES = {Stage.PRE_OPPORTUNITY, Stage.PENDING_ACCEPTANCE}
LATER_OPEN_STAGES = {Stage.SCOPING, Stage.TECHNICAL_EVALUATION, Stage.PROPOSAL, Stage.NEGOTIATING,
                     Stage.AWAITING_SIGNATURE}
OPEN_STAGES = UNACCEPTED_STAGES | {Stage.DISCOVERY} | LATER_OPEN_STAGES
# Open stages an accepted opportunity moves between, backwards too (handbook: "Reverting an
# Opportunity to a Previous Stage").
ACCEPTED_OPEN_STAGES = {Stage.DISCOVERY} | LATER_OPEN_STAGES
# No way out of these; a closed-lost one may be reopened for a while (Opportunity.reopen_expired).
FINAL_STAGES = {Stage.CLOSED_WON, Stage.UNQUALIFIED, Stage.DUPLICATE}
# Once accepted ("qualified" in the handbook) an opportunity never goes back to these.
BEFORE_ACCEPTANCE_ONLY = {Stage.PRE_OPPORTUNITY, Stage.PENDING_ACCEPTANCE, Stage.UNQUALIFIED, Stage.DUPLICATE}

# The stage map (docs/rules.md §4): every move change_stage may make, before acceptance narrows it
# (Opportunity.next_stages). 00-Pre Opportunity is never a target: only a new opportunity
# starts there. 0-Pending Acceptance is entered when the SDR "converts" a pre-opportunity,
# or when a closed-lost one that was never accepted is reopened.
STAGE_MOVES: dict[str, frozenset[str]] = {
    # docs/rules.md §4: "unqualified is reachable only from pending_acceptance"; a warm conversation
    # that goes nowhere is closed lost.
    Stage.PRE_OPPORTUNITY: frozenset({Stage.PENDING_ACCEPTANCE, Stage.CLOSED_LOST, Stage.DUPLICATE}),
    Stage.PENDING_ACCEPTANCE: frozenset({Stage.DISCOVERY, Stage.CLOSED_LOST, Stage.UNQUALIFIED, Stage.DUPLICATE}),
    **{
        stage: frozenset((ACCEPTED_OPEN_STAGES - {stage}) | {Stage.CLOSED_WON, Stage.CLOSED_LOST})
        for stage in ACCEPTED_OPEN_STAGES
    },
    # Reopening (within OPPORTUNITY_REOPEN_DAYS of closing).
    Stage.CLOSED_LOST: frozenset({Stage.PENDING_ACCEPTANCE} | ACCEPTED_OPEN_STAGES),
    Stage.CLOSED_WON: frozenset(),
    Stage.UNQUALIFIED: frozenset(),
    Stage.DUPLICATE: frozenset(),
}


class Source(models.TextChoices):
    SDR_GENERATED = "sdr_generated", "SDR generated"
    BDR_GENERATED = "bdr_generated", "BDR generated"
    AE_GENERATED = "ae_generated", "AE generated"
    MARKETING = "marketing", "Marketing"


class Initiative(models.TextChoices):
    TOP_2_PRIORITY = "top_2_priority", "Top 2 priority"
    SMALL_BOX = "small_box", "Small box"


class Deployment(models.TextChoices):
    SAAS = "saas", "SaaS (hosted)"
    SELF_MANAGED = "self_managed", "Self-managed"
    UNDECIDED = "undecided", "Undecided"


class ClosedLostReason(models.TextChoices):
    MERGED = "merged", "Merged into another opportunity"
    CONSOLIDATING_ORDER = "consolidating_order", "Consolidating order - part of another subscription"
    LOST_TO_COMPETITOR = "lost_to_competitor", "Lost to competitor"
    NO_BUDGET = "no_budget", "No budget"
    NO_DECISION = "no_decision", "No decision / stalled"
    PRODUCT_FIT = "product_fit", "Product fit"
    TIMING = "timing", "Timing"
    OTHER = "other", "Other"


class OpportunityQuerySet(models.QuerySet["Opportunity"]):
    def visible_to(self, user: User) -> OpportunityQuerySet:
        """docs/rules.md §8.2: sellers see what they own or what sits on their accounts; SDRs what they
        own or are credited with; managers their teams'; ops everything."""
        if not user.is_authenticated:
            return self.none()
        if user.is_ops:
            return self
        if user.is_manager:
            teams = user.managed_team_ids()
            return self.filter(Q(owner__team__in=teams) | Q(sdr__team__in=teams) | Q(owner=user) | Q(sdr=user))
        if user.is_prospector:
            return self.filter(Q(owner=user) | Q(sdr=user))
        if user.role in ("sal", "ae"):
            return self.filter(Q(owner=user) | Q(account__owner=user))
        if user.role == "integration":
            return self.filter(created_by=user)
        return self.none()

    def editable_by(self, user: User) -> OpportunityQuerySet:
        """From 1-Discovery on only the owner and ops edit ("no one else from Sales Dev can
        edit opportunities once they are in Stage 1"); before that whoever sees it."""
        if user.is_ops:
            return self
        visible = self.visible_to(user)
        return visible.filter(Q(stage__in=UNACCEPTED_STAGES, sales_accepted_date=None) | Q(owner=user))


class Opportunity(SoftDeletable):
    name = models.CharField(max_length=255)
    account = models.ForeignKey("leads.Account", on_delete=models.PROTECT, related_name="opportunities", db_index=False)
    primary_contact = models.ForeignKey(
        "leads.Contact", null=True, blank=True, on_delete=models.SET_NULL, related_name="primary_opportunities"
    )
    # Reseller deals (docs/rules.md §4, third parties): the reseller's contact and account.
    reseller_contact = models.ForeignKey(
        "leads.Contact", null=True, blank=True, on_delete=models.SET_NULL, related_name="reseller_opportunities"
    )
    reseller_account = models.ForeignKey(
        "leads.Account", null=True, blank=True, on_delete=models.SET_NULL, related_name="resold_opportunities"
    )
    # The lead it was converted from, if any.
    lead = models.ForeignKey("leads.Lead", null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    owner = models.ForeignKey(USER, on_delete=models.PROTECT, related_name="owned_opportunities", db_index=False)
    sdr = models.ForeignKey(
        USER, null=True, blank=True, on_delete=models.SET_NULL, related_name="credited_opportunities",
        help_text="The credited SDR/BDR; never the owner", db_index=False,
    )
    stage = models.CharField(max_length=30, choices=Stage.choices, default=Stage.PENDING_ACCEPTANCE)
    stage_changed_at = models.DateTimeField()
    iacv = models.DecimalField("IACV", max_digits=14, decimal_places=2, default=0)
    amount = models.DecimalField(max_digits=14, decimal_places=2, default=0)
    close_date = models.DateField(null=True, blank=True)
    next_step_date = models.DateField(null=True, blank=True)
    source = models.CharField(max_length=20, choices=Source.choices, default=Source.SDR_GENERATED)
    professional_services = models.BooleanField(
        default=False, help_text="Professional-services deals are never credited to sales development"
    )
    # Qualification (docs/rules.md §4; the SAO criteria are authority and a business problem).
    authority_confirmed = models.BooleanField(default=False)
    business_problem = models.TextField(blank=True)
    initiative = models.CharField(max_length=20, choices=Initiative.choices, blank=True)
    current_tools = models.TextField(blank=True)
    entry_use_case = models.TextField(blank=True)
    potential_seats = models.PositiveIntegerField(null=True, blank=True)
    deployment_preference = models.CharField(max_length=20, choices=Deployment.choices, blank=True)
    tech_stack = models.TextField(blank=True)
    competition = models.TextField(blank=True)
    # Snapshots, set by the stage-change function only.
    sales_accepted_date = models.DateField(null=True, blank=True)
    sales_qualified = models.BooleanField(default=False)
    sales_qualified_date = models.DateField(null=True, blank=True)
    initial_iacv = models.DecimalField("initial IACV", max_digits=14, decimal_places=2, null=True, blank=True)
    closed_at = models.DateTimeField(null=True, blank=True, help_text="When it last closed; reopen within 30 days")
    closed_lost_reason = models.CharField(max_length=30, choices=ClosedLostReason.choices, blank=True)
    closed_lost_details = models.TextField(blank=True)
    closed_won_details = models.TextField(blank=True)
    merged_into = models.ForeignKey("self", null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    # The stale_opportunities job's reminder to the AE, once per opportunity and stage-0 spell.
    stale_reminded_at = models.DateTimeField(null=True, blank=True)
    created_by = models.ForeignKey(USER, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    objects = LiveManager.from_queryset(OpportunityQuerySet)()
    all_objects = OpportunityQuerySet.as_manager()  # deleted ones too (leads/models/deletion.py)

    class Meta:
        verbose_name_plural = "opportunities"
        constraints = [
            models.CheckConstraint(condition=~Q(sdr=models.F("owner")), name="opportunity_sdr_not_owner"),
        ]
        indexes = [
            models.Index(fields=["owner", "stage", "id"], name="opportunity_owner"),
            # The SAO dashboard: an SDR's deals accepted, qualified or won in a period.
            models.Index(fields=["sdr", "sales_accepted_date"], name="opportunity_sdr_sao"),
            models.Index(fields=["sdr", "sales_qualified_date"], name="opportunity_sdr_sqo"),
            models.Index(fields=["sdr", "closed_at"], name="opportunity_sdr_won", condition=Q(stage="closed_won")),
            models.Index(fields=["account", "id"], name="opportunity_account"),
            models.Index(fields=["created_at", "id"], name="opportunity_created"),
            models.Index(fields=["stage_changed_at", "id"], name="opportunity_stage_zero",
                         condition=Q(stage="pending_acceptance")),
            models.Index(fields=["deleted_at", "id"], name="opportunity_deleted",
                         condition=Q(deleted_at__isnull=False)),
        ]

    def __str__(self) -> str:
        return self.name

    @property
    def is_sao(self) -> bool:
        return self.sales_accepted_date is not None

    def next_stages(self) -> list[str]:
        """The stages the map allows from here, in stage order. Acceptance narrows it: an
        accepted opportunity never returns before acceptance, and one never accepted enters
        the accepted stages only through 1-Discovery (where the SAO criteria are checked)."""
        targets = set(STAGE_MOVES[self.stage])
        if self.is_sao:
            targets -= BEFORE_ACCEPTANCE_ONLY
        else:
            targets -= LATER_OPEN_STAGES | {Stage.CLOSED_WON}
        return [stage for stage in Stage.values if stage in targets]

    def reopen_deadline(self) -> datetime | None:
        """Until when a closed-lost opportunity may be reopened (after that: a new opportunity)."""
        if self.stage != Stage.CLOSED_LOST:
            return None
        closed = self.closed_at or self.stage_changed_at
        return closed + timedelta(days=settings.OPPORTUNITY_REOPEN_DAYS)

    def reopen_expired(self, now: datetime) -> bool:
        deadline = self.reopen_deadline()
        return deadline is not None and now > deadline


class StageChange(models.Model):
    """One row per stage move: from, to, by, when."""

    opportunity = models.ForeignKey(Opportunity, on_delete=models.CASCADE, related_name="stage_changes", db_index=False)
    old = models.CharField(max_length=30, choices=Stage.choices, blank=True)
    new = models.CharField(max_length=30, choices=Stage.choices)
    by = models.ForeignKey(USER, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    at = models.DateTimeField()

    class Meta:
        indexes = [models.Index(fields=["opportunity", "at"], name="stagechange_opportunity")]

    def __str__(self) -> str:
        return f"{self.old or '—'} → {self.new}"


class Disposition(models.TextChoices):
    SCHEDULED = "scheduled", "Scheduled"
    QUALIFIED_MEETING = "qualified_meeting", "Qualified meeting"
    SAO = "sao", "SAO"
    NO_SHOW = "no_show", "No show"
    RESCHEDULED = "rescheduled", "Rescheduled"
    CANCELLED = "cancelled", "Cancelled"


class ActivitySource(models.TextChoices):
    INBOUND = "inbound", "Inbound"
    OUTBOUND = "outbound", "Outbound"
    EVENT = "event", "Event"
    WEB_CHAT = "web_chat", "Web chat"
    PARTNER = "partner", "Partner"


class IQMQuerySet(models.QuerySet["IQM"]):
    def visible_to(self, user: User) -> IQMQuerySet:
        """An IQM is seen by its SDR, who booked it, the person's and the opportunity's owners, their
        managers and ops."""
        if not user.is_authenticated:
            return self.none()
        if user.is_ops:
            return self
        mine = (Q(sdr=user) | Q(booked_by=user) | Q(opportunity__owner=user) | Q(lead__owner=user)
                | Q(contact__owner=user))
        if user.is_manager:
            return self.filter(mine | Q(sdr__team__in=user.managed_team_ids()))
        if user.role in ("sal", "ae"):
            return self.filter(mine | Q(account__owner=user))
        if user.role == "integration":
            return self.filter(booked_by=user)
        return self.filter(mine)

    def editable_by(self, user: User) -> IQMQuerySet:
        return self.visible_to(user)


class IQM(models.Model):
    """An initial qualifying meeting: an event on a lead or contact (exactly one)."""

    subject = models.CharField(max_length=255, help_text='"<Person> - IQM"')
    lead = models.ForeignKey("leads.Lead", null=True, blank=True, on_delete=models.CASCADE, related_name="iqms",
                             db_index=False)
    contact = models.ForeignKey("leads.Contact", null=True, blank=True, on_delete=models.CASCADE, related_name="iqms",
                                db_index=False)
    account = models.ForeignKey("leads.Account", null=True, blank=True, on_delete=models.SET_NULL, related_name="iqms")
    opportunity = models.ForeignKey(Opportunity, null=True, blank=True, on_delete=models.SET_NULL,
                                    related_name="iqms", db_index=False)
    sdr = models.ForeignKey(USER, on_delete=models.PROTECT, related_name="iqms", help_text="Assigned to",
                            db_index=False)
    booked_by = models.ForeignKey(USER, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    start = models.DateTimeField()
    end = models.DateTimeField()
    location = models.CharField(max_length=255, blank=True)
    disposition = models.CharField(max_length=20, choices=Disposition.choices, default=Disposition.SCHEDULED)
    activity_source = models.CharField(max_length=20, choices=ActivitySource.choices, default=ActivitySource.INBOUND)
    sequence = models.ForeignKey("leads.Sequence", null=True, blank=True, on_delete=models.SET_NULL, related_name="+",
                                 help_text="The attributed sequence")
    description = models.TextField(blank=True, help_text="Pre- and post-IQM notes")
    # The stale_opportunities job: a no-show not rebooked in 14 days is flagged for the AE.
    unqualify_flagged_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    objects = IQMQuerySet.as_manager()

    class Meta:
        verbose_name = "IQM"
        constraints = [
            models.CheckConstraint(
                condition=Q(lead__isnull=False, contact__isnull=True) | Q(lead__isnull=True, contact__isnull=False),
                name="iqm_one_person",
            ),
            models.CheckConstraint(condition=Q(end__gte=models.F("start")), name="iqm_end_after_start"),
        ]
        indexes = [
            models.Index(fields=["sdr", "start"], name="iqm_sdr"),
            models.Index(fields=["lead", "start"], name="iqm_lead"),
            models.Index(fields=["contact", "start"], name="iqm_contact"),
            models.Index(fields=["opportunity", "start"], name="iqm_opportunity"),
            models.Index(fields=["start", "id"], name="iqm_no_show",
                         condition=Q(disposition="no_show", unqualify_flagged_at=None)),
        ]

    def __str__(self) -> str:
        return self.subject

    @property
    def person(self):  # noqa: ANN201 - Lead or Contact
        return self.lead or self.contact
