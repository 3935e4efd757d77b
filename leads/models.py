"""Accounts, the people SDRs work (leads and contacts), their activities and history."""

from __future__ import annotations

from datetime import timedelta

from django.conf import settings
from django.db import models
from django.db.models import Q

from sdrcrm.models import Region, Segment, User

USER = settings.AUTH_USER_MODEL


class Status(models.TextChoices):
    RAW = "raw", "Raw"
    INQUIRY = "inquiry", "Inquiry"
    MQL = "mql", "MQL"
    ACCEPTED = "accepted", "Accepted"
    QUALIFYING = "qualifying", "Qualifying"
    QUALIFIED = "qualified", "Qualified"
    UNQUALIFIED = "unqualified", "Unqualified"
    RECYCLE = "recycle", "Recycle"
    UNRESPONSIVE = "unresponsive", "Unresponsive"
    BAD_DATA = "bad_data", "Bad Data"
    WEB_PORTAL_PURCHASE = "web_portal_purchase", "Web Portal Purchase"


S = Status
# How far ahead of our clock a sender's clock may run: activities and sequence events
# dated later than now + this are refused.
MAX_CLOCK_SKEW = timedelta(days=1)
OPEN_STATUSES = frozenset({S.RAW, S.INQUIRY, S.MQL, S.ACCEPTED, S.QUALIFYING, S.RECYCLE, S.UNRESPONSIVE})
# SPEC §6. `qualified` is reached only by converting (services.convert_lead), and
# `unqualified` → `raw` only by managers and ops; services.transition checks both.
TRANSITIONS: dict[str, frozenset[str]] = {
    S.RAW: frozenset({S.INQUIRY, S.MQL, S.ACCEPTED, S.RECYCLE}),
    S.INQUIRY: frozenset({S.MQL, S.ACCEPTED, S.RECYCLE}),
    S.MQL: frozenset({S.ACCEPTED, S.RECYCLE}),
    S.ACCEPTED: frozenset({S.QUALIFYING, S.RECYCLE, S.UNRESPONSIVE}),
    S.QUALIFYING: frozenset({S.QUALIFIED, S.RECYCLE}),
    S.RECYCLE: frozenset({S.MQL, S.ACCEPTED}),
    S.UNRESPONSIVE: frozenset({S.MQL, S.ACCEPTED}),
    S.BAD_DATA: frozenset({S.ACCEPTED}),
    S.UNQUALIFIED: frozenset({S.RAW}),
    S.QUALIFIED: frozenset(),
    S.WEB_PORTAL_PURCHASE: frozenset(),
}
# Any open status may be closed as unqualified, bad data or a self-serve purchase (the
# handbook's "Web Portal Purchase": bought online while a duplicate record exists).
for _open in OPEN_STATUSES:
    TRANSITIONS[_open] = TRANSITIONS[_open] | {S.UNQUALIFIED, S.BAD_DATA, S.WEB_PORTAL_PURCHASE}


class RecycleReason(models.TextChoices):
    EVALUATING = "evaluating", "Evaluating"
    NOT_READY = "not_ready", "Not ready"
    NO_RESPONSE = "no_response", "No response"
    OTHER = "other", "Other"


class UnqualifiedReason(models.TextChoices):
    UNSUBSCRIBE = "unsubscribe", "Unsubscribe"
    SPAM = "spam", "Spam"
    BAD_CONTACT_INFO = "bad_contact_info", "Bad contact info"
    NOT_A_FIT = "not_a_fit", "Not a fit"
    STUDENT = "student", "Student"
    COMPETITOR = "competitor", "Competitor"
    DUPLICATE = "duplicate", "Duplicate"
    OTHER = "other", "Other"


REQUIRED_REASONS: dict[str, type[models.TextChoices]] = {
    S.RECYCLE: RecycleReason,
    S.UNQUALIFIED: UnqualifiedReason,
}


def reason_label(status: str, code: str) -> str:
    """'not_ready' → 'Not ready' for the status that uses it; other codes as they are."""
    choices = REQUIRED_REASONS.get(status)
    if choices is not None and code in choices.values:
        return str(choices(code).label)
    return code


class Cause(models.TextChoices):
    SCORE = "score", "Score"
    SEQUENCE = "sequence", "Sequence"
    REPLY = "reply", "Reply"
    MANUAL = "manual", "Manual"
    JOB = "job", "Job"
    ROUTING = "routing", "Routing"
    IMPORT = "import", "Import"
    MERGE = "merge", "Merge"


class InitialSource(models.TextChoices):
    TRIAL_ENTERPRISE = "trial_enterprise", "Trial - Enterprise"
    TRIAL_SAAS = "trial_saas", "Trial - SaaS"
    CONTACT_REQUEST = "contact_request", "Contact Request"
    PROFESSIONAL_SERVICES_REQUEST = "professional_services_request", "Professional Services Request"
    WEBCAST = "webcast", "Webcast"
    CONFERENCE = "conference", "Conference"
    FIELD_EVENT = "field_event", "Field Event"
    GATED_CONTENT = "gated_content", "Gated Content"
    NEWSLETTER = "newsletter", "Newsletter"
    WEB_CHAT = "web_chat", "Web Chat"
    WEB_DIRECT = "web_direct", "Web Direct"
    SDR_GENERATED = "sdr_generated", "SDR Generated"
    AE_GENERATED = "ae_generated", "AE Generated"
    LIST_IMPORT = "list_import", "List Import"
    CE_DOWNLOAD = "ce_download", "CE Download"
    GITLAB_COM = "gitlab_com", "GitLab.com"
    PARTNER = "partner", "Partner"


class ActivityType(models.TextChoices):
    TRIAL_REQUEST = "trial_request", "Trial request"
    CONTACT_REQUEST = "contact_request", "Contact request"
    PROFESSIONAL_SERVICES_REQUEST = "professional_services_request", "Professional services request"
    WEBCAST_ATTENDED_HIGH_INTENT = "webcast_attended_high_intent", "Webcast attended (high intent)"
    ENTERPRISE_TRIAL_PAGE_VISIT = "enterprise_trial_page_visit", "Enterprise trial page visit"
    ONDEMAND_WATCHED_HIGH_INTENT = "ondemand_watched_high_intent", "On-demand watched (high intent)"
    BOOTH_VISIT = "booth_visit", "Booth visit"
    LIVE_EVENT_ATTENDED = "live_event_attended", "Live event attended"
    GATED_ASSET_DOWNLOAD = "gated_asset_download", "Gated asset download"
    WEBCAST_REGISTERED = "webcast_registered", "Webcast registered"
    WEBCAST_ATTENDED_LOW_INTENT = "webcast_attended_low_intent", "Webcast attended (low intent)"
    ONDEMAND_WATCHED_LOW_INTENT = "ondemand_watched_low_intent", "On-demand watched (low intent)"
    NEWSLETTER_OPTIN = "newsletter_optin", "Newsletter opt-in"
    SECURITY_NEWSLETTER_OPTIN = "security_newsletter_optin", "Security newsletter opt-in"
    WEBCAST_EMAILS_OPTIN = "webcast_emails_optin", "Webcast emails opt-in"
    EVENT_EMAILS_OPTIN = "event_emails_optin", "Event emails opt-in"
    PRICING_PAGE_VISIT = "pricing_page_visit", "Pricing page visit"
    FEATURES_PAGE_VISIT = "features_page_visit", "Features page visit"
    INSTALLATION_PAGE_VISIT = "installation_page_visit", "Installation page visit"
    EMAIL_UNSUBSCRIBE = "email_unsubscribe", "Email unsubscribe"
    CAREER_PAGE_VISIT = "career_page_visit", "Career page visit"
    WEB_CHAT = "web_chat", "Web chat"
    SEQUENCE_REPLY = "sequence_reply", "Sequence reply"
    CALL = "call", "Call"
    EMAIL_SENT = "email_sent", "Email sent"
    MEETING = "meeting", "Meeting"


class Queue(models.Model):
    """A shared work list: a lead sits in a queue or has an owner, never both."""

    UNASSIGNED = "Unassigned"
    INQUIRY = "Inquiry Queue"
    COMMUNITY_ADVOCATE = "Community Advocate Queue"
    SALES_ADMIN = "Sales Admin"

    name = models.CharField(max_length=100, unique=True)
    description = models.TextField(blank=True)

    def __str__(self) -> str:
        return self.name


class BlockedDomain(models.Model):
    """Ops' block list: people at these email domains are refused on ingest."""

    domain = models.CharField(max_length=253, unique=True)
    reason = models.CharField(max_length=200, blank=True)
    created_by = models.ForeignKey(USER, null=True, blank=True, on_delete=models.SET_NULL)
    created_at = models.DateTimeField(auto_now_add=True)

    def __str__(self) -> str:
        return self.domain


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


class Account(models.Model):
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
    # Two of the five tier qualifiers (SPEC §9) that no other field holds.
    it_employees = models.PositiveIntegerField("IT/TEDD employees", null=True, blank=True)
    devops_adoption = models.BooleanField(
        default=False, help_text="Multiple DevOps roles on staff, or hiring for several"
    )
    carr = models.DecimalField(max_digits=14, decimal_places=2, default=0)
    # Derived (routing/segmentation, SPEC §5); stored so views can filter on them.
    segment = models.CharField(max_length=20, choices=Segment.choices, default=Segment.UNKNOWN)
    region = models.CharField(max_length=10, choices=Region.choices, blank=True)
    created_by = models.ForeignKey(USER, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    objects = AccountQuerySet.as_manager()

    class Meta:
        indexes = [
            models.Index(fields=["created_at", "id"], name="account_created"),
            models.Index(fields=["targeted_by", "id"], name="account_targeted", condition=Q(targeted=True)),
        ]

    def __str__(self) -> str:
        return self.name


class PersonQuerySet(models.QuerySet):
    def visible_to(self, user: User) -> PersonQuerySet:
        """SPEC §2: the one place record-level read access is decided."""
        if not user.is_authenticated:
            return self.none()
        if user.is_ops:
            return self
        if user.is_manager:
            return self.filter(Q(owner__team__in=user.managed_team_ids()) | Q(owner=user) | Q(owner=None))
        if user.is_prospector:
            # Own records, the team's (read only), and queued records anyone may adopt.
            mine = Q(owner=user) | Q(owner=None)
            if user.team_id:
                mine |= Q(owner__team=user.team_id)
            return self.filter(mine)
        if user.role in ("sal", "ae"):
            return self._visible_to_seller(user)
        if user.role == "integration":
            return self.filter(created_by=user)
        return self.none()

    def _visible_to_seller(self, user: User) -> PersonQuerySet:
        return self.filter(owner=user)

    def editable_by(self, user: User) -> PersonQuerySet:
        if user.is_ops:
            return self
        if user.is_manager:
            return self.visible_to(user)
        if user.is_prospector:
            return self.filter(Q(owner=user) | Q(owner=None))
        return self.visible_to(user)


class ContactQuerySet(PersonQuerySet):
    def _visible_to_seller(self, user: User) -> PersonQuerySet:
        return self.filter(Q(owner=user) | Q(account__owner=user))


class Person(models.Model):
    """The fields a lead and a contact share (SPEC §3)."""

    # The name of the foreign key by which activities, history, the score ledger and
    # enrolments point at a lead or a contact.
    PERSON_FIELD = ""

    first_name = models.CharField(max_length=100, blank=True)
    last_name = models.CharField(max_length=100)
    title = models.CharField(max_length=200, blank=True)
    phone = models.CharField(max_length=40, blank=True)
    company = models.CharField(max_length=255, blank=True)
    country = models.CharField(max_length=2, blank=True, help_text="ISO 3166-1 alpha-2")
    state = models.CharField(max_length=100, blank=True)
    city = models.CharField(max_length=100, blank=True)
    employee_count = models.PositiveIntegerField(null=True, blank=True)
    industry = models.CharField(max_length=100, blank=True)
    public_sector = models.BooleanField(default=False)
    # No single-column indexes on owner, queue and created_by: each table's composite
    # indexes start with them (every index costs each insert and each non-HOT update).
    owner = models.ForeignKey(USER, null=True, blank=True, on_delete=models.SET_NULL, related_name="+",
                              db_index=False)
    queue = models.ForeignKey(Queue, null=True, blank=True, on_delete=models.PROTECT, related_name="+",
                              db_index=False)
    status = models.CharField(max_length=20, choices=Status.choices, default=Status.RAW)
    status_reason = models.CharField(max_length=40, blank=True)
    status_changed_at = models.DateTimeField()
    score = models.IntegerField(default=0)
    mql_at = models.DateTimeField(null=True, blank=True)
    last_mql_at = models.DateTimeField(null=True, blank=True)
    initial_source = models.CharField(max_length=40, choices=InitialSource.choices)
    lead_source = models.CharField(max_length=40, choices=InitialSource.choices, blank=True)
    last_interesting_moment = models.CharField(max_length=255, blank=True)
    last_interesting_moment_at = models.DateTimeField(null=True, blank=True)
    inactive = models.BooleanField(default=False)
    opted_out = models.BooleanField(default=False)
    high_priority = models.BooleanField(default=False)
    last_handraise_at = models.DateTimeField(null=True, blank=True)
    # End of the active window (60 days after a handraise, trials: end + 30 days);
    # is_passive flips when it passes (the active_passive job).
    active_until = models.DateTimeField(null=True, blank=True)
    is_passive = models.BooleanField(default=True)
    # Behaviour before this moment (the last move to recycle) no longer scores.
    behaviour_counted_since = models.DateTimeField(null=True, blank=True)
    segment = models.CharField(max_length=20, choices=Segment.choices, default=Segment.UNKNOWN)
    region = models.CharField(max_length=10, choices=Region.choices, blank=True)
    sub_region = models.CharField(max_length=20, blank=True)
    created_by = models.ForeignKey(USER, null=True, blank=True, on_delete=models.SET_NULL, related_name="+",
                                   db_index=False)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        abstract = True

    def __str__(self) -> str:
        return self.full_name

    @property
    def full_name(self) -> str:
        return f"{self.first_name} {self.last_name}".strip()

    @property
    def status_reason_label(self) -> str:
        return reason_label(self.status, self.status_reason)


class Lead(Person):
    PERSON_FIELD = "lead"

    # Stored lower-cased by the ingest service, so the unique index is case-insensitive.
    email = models.EmailField(max_length=254, unique=True)
    # The email's domain, kept by the ingest service: routing finds colleagues at the same
    # company with an index instead of a LIKE '%@domain' scan.
    email_domain = models.CharField(max_length=253, default="", db_default="")  # index lead_email_domain
    account = models.ForeignKey(
        Account, null=True, blank=True, on_delete=models.SET_NULL, related_name="matched_leads"
    )
    converted_to = models.ForeignKey(
        "Contact", null=True, blank=True, on_delete=models.SET_NULL, related_name="converted_from"
    )
    # The SLA clock (SPEC §5, routing/jobs.py): a routed contact or professional services
    # request owes a follow-up touch by `sla_due_at`; the sla_breaches job stamps
    # `sla_breached_at` when it is missed and may reassign through `sla_pool`, the pool
    # the lead was routed from (blank: not routed through a pool, never reassigned).
    sla_due_at = models.DateTimeField(null=True, blank=True)
    sla_breached_at = models.DateTimeField(null=True, blank=True)
    sla_pool = models.CharField(max_length=100, blank=True)
    # Marked as spam by a person; the nightly spam_deletion job deletes it for good and
    # keeps a Tombstone (SPEC §6).
    spam_marked_at = models.DateTimeField(null=True, blank=True)
    spam_marked_by = models.ForeignKey(USER, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    spam_block_domain = models.BooleanField(default=False)

    objects = PersonQuerySet.as_manager()

    class Meta:
        constraints = [
            models.CheckConstraint(
                condition=Q(owner__isnull=True) | Q(queue__isnull=True), name="lead_owner_xor_queue"
            ),
        ]
        indexes = [
            # The SDR views: own records by status, oldest status change first.
            models.Index(fields=["owner", "status", "status_changed_at", "id"], name="lead_owner_status"),
            models.Index(fields=["status", "status_changed_at", "id"], name="lead_status_changed"),
            models.Index(fields=["queue", "status_changed_at", "id"], name="lead_queue"),
            models.Index(fields=["created_at", "id"], name="lead_created"),
            models.Index(fields=["updated_at", "id"], name="lead_updated"),
            models.Index(fields=["score", "id"], name="lead_score"),
            models.Index(fields=["last_name", "id"], name="lead_last_name"),
            models.Index(fields=["created_by", "id"], name="lead_created_by"),
            # Equality only: no second, LIKE-able copy as db_index would make on PostgreSQL.
            models.Index(fields=["email_domain"], name="lead_email_domain"),
            models.Index(fields=["active_until", "id"], name="lead_active_until",
                         condition=Q(is_passive=False)),
            # The sla_breaches job: running clocks by due time, then breached ones (also the
            # managers' list of breaches).
            models.Index(fields=["sla_due_at", "id"], name="lead_sla_running",
                         condition=Q(sla_due_at__isnull=False, sla_breached_at__isnull=True)),
            models.Index(fields=["sla_due_at", "id"], name="lead_sla_breached",
                         condition=Q(sla_breached_at__isnull=False)),
            models.Index(fields=["spam_marked_at", "id"], name="lead_spam_marked",
                         condition=Q(spam_marked_at__isnull=False)),
        ]

    @property
    def is_converted(self) -> bool:
        """Converted into a contact (a Qualified lead is, whatever its link says)."""
        return self.converted_to_id is not None or self.status == Status.QUALIFIED


class Contact(Person):
    PERSON_FIELD = "contact"

    class Role(models.TextChoices):
        NONE = "", "—"
        RESELLER = "reseller", "Reseller"

    email = models.EmailField(max_length=254, blank=True, db_index=True)
    account = models.ForeignKey(Account, null=True, blank=True, on_delete=models.SET_NULL, related_name="contacts")
    role = models.CharField(max_length=20, choices=Role.choices, blank=True)

    objects = ContactQuerySet.as_manager()

    class Meta:
        constraints = [
            models.CheckConstraint(
                condition=Q(owner__isnull=True) | Q(queue__isnull=True), name="contact_owner_xor_queue"
            ),
        ]
        indexes = [
            models.Index(fields=["owner", "status", "status_changed_at", "id"], name="contact_owner_status"),
            models.Index(fields=["queue", "status_changed_at", "id"], name="contact_queue"),
            models.Index(fields=["created_at", "id"], name="contact_created"),
            models.Index(fields=["created_by", "id"], name="contact_created_by"),
            models.Index(fields=["account", "id"], name="contact_account"),
        ]


class ActivityQuerySet(models.QuerySet["Activity"]):
    def visible_to(self, user: User) -> ActivityQuerySet:
        if not user.is_authenticated:
            return self.none()
        return self.filter(
            Q(lead__in=Lead.objects.visible_to(user)) | Q(contact__in=Contact.objects.visible_to(user))
        )


class Activity(models.Model):
    """A behaviour or touch on exactly one lead or contact; the input of scoring."""

    lead = models.ForeignKey(Lead, null=True, blank=True, on_delete=models.CASCADE, related_name="activities")
    contact = models.ForeignKey(
        Contact, null=True, blank=True, on_delete=models.CASCADE, related_name="activities"
    )
    type = models.CharField(max_length=40, choices=ActivityType.choices)
    occurred_at = models.DateTimeField()
    details = models.JSONField(default=dict, blank=True)
    source_system = models.CharField(max_length=50, blank=True)
    created_by = models.ForeignKey(USER, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)

    objects = ActivityQuerySet.as_manager()

    class Meta:
        constraints = [
            models.CheckConstraint(
                condition=(Q(lead__isnull=False) & Q(contact__isnull=True))
                | (Q(lead__isnull=True) & Q(contact__isnull=False)),
                name="activity_one_person",
            ),
        ]
        indexes = [
            models.Index(fields=["lead", "occurred_at"], name="activity_lead"),
            models.Index(fields=["contact", "occurred_at"], name="activity_contact"),
        ]

    def __str__(self) -> str:
        return f"{self.get_type_display()} @ {self.occurred_at:%Y-%m-%d %H:%M}"


class StatusChange(models.Model):
    """One row per status change of a lead or contact: from, to, why, by whom, when."""

    lead = models.ForeignKey(Lead, null=True, blank=True, on_delete=models.CASCADE, related_name="status_changes")
    contact = models.ForeignKey(
        Contact, null=True, blank=True, on_delete=models.CASCADE, related_name="status_changes"
    )
    old = models.CharField(max_length=20, choices=Status.choices, blank=True)
    new = models.CharField(max_length=20, choices=Status.choices)
    reason = models.CharField(max_length=40, blank=True)
    cause = models.CharField(max_length=20, choices=Cause.choices)
    by = models.ForeignKey(USER, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    at = models.DateTimeField()

    class Meta:
        indexes = [
            models.Index(fields=["lead", "at"], name="statuschange_lead"),
            models.Index(fields=["contact", "at"], name="statuschange_contact"),
        ]

    def __str__(self) -> str:
        return f"{self.old or '∅'} → {self.new} ({self.cause})"

    @property
    def reason_label(self) -> str:
        return reason_label(self.new, self.reason)


# Sequences and tombstones live in their own module to keep this one readable.
from .sequence_models import (  # noqa: E402, F401
    Enrollment,
    Sequence,
    SequenceEvent,
    SequenceStep,
    StepType,
    Tombstone,
    Touch,
)

