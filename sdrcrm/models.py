"""Project-wide records: people, teams, job runs, and the webhooks' endpoints, events and
deliveries."""

from __future__ import annotations

import uuid

from django.conf import settings
from django.contrib.auth.models import AbstractUser
from django.db import models
from django.db.models import Q
from django.utils import timezone
from knox.models import AbstractAuthToken

from routing import segments


class Role(models.TextChoices):
    SDR = "sdr", "SDR"
    BDR = "bdr", "BDR"
    SAL = "sal", "SAL"
    AE = "ae", "AE"
    SDR_MANAGER = "sdr_manager", "SDR manager"
    OPS = "ops", "Sales-Dev Ops"
    INTEGRATION = "integration", "Integration"


class Region(models.TextChoices):
    AMER = "amer", "AMER"
    EMEA = "emea", "EMEA"
    APAC = "apac", "APAC"


class Segment(models.TextChoices):
    """The values of the pure routing/segments.py, which works them out."""

    LARGE = segments.LARGE, "Large"
    MID_MARKET = segments.MID_MARKET, "Mid-Market"
    SMB = segments.SMB, "SMB"
    PUBSEC = segments.PUBSEC, "Public Sector"
    UNKNOWN = segments.UNKNOWN, "Unknown"


PROSPECTING_ROLES = {Role.SDR, Role.BDR}
SELLING_ROLES = {Role.SAL, Role.AE}


class Team(models.Model):
    name = models.CharField(max_length=100, unique=True)
    manager = models.ForeignKey(
        "User", null=True, blank=True, on_delete=models.SET_NULL, related_name="managed_teams"
    )
    region = models.CharField(max_length=10, choices=Region.choices, blank=True)

    def __str__(self) -> str:
        return self.name


class User(AbstractUser):
    role = models.CharField(max_length=20, choices=Role.choices, default=Role.SDR)
    region = models.CharField(max_length=10, choices=Region.choices, blank=True)
    sub_region = models.CharField(max_length=20, blank=True)
    segment = models.CharField(max_length=20, choices=Segment.choices, blank=True)
    team = models.ForeignKey(
        Team, null=True, blank=True, on_delete=models.SET_NULL, related_name="members"
    )
    manager = models.ForeignKey(
        "self", null=True, blank=True, on_delete=models.SET_NULL, related_name="reports"
    )
    # False = out of office: round robin skips them.
    is_available = models.BooleanField(default=True)
    ramp_start_date = models.DateField(null=True, blank=True)
    # For a SAL: the SDR paired with them, who gets leads of their named accounts.
    paired_sdr = models.ForeignKey(
        "self", null=True, blank=True, on_delete=models.SET_NULL, related_name="paired_sals"
    )
    monthly_sao_quota = models.PositiveIntegerField(default=0)
    monthly_iacv_quota = models.DecimalField(max_digits=14, decimal_places=2, default=0)

    def set_password(self, raw_password: str | None) -> None:
        super().set_password(raw_password)
        # Saving the new password revokes every API token (sdrcrm/authentication.py).
        self._password_changed = True

    @property
    def is_ops(self) -> bool:
        return self.is_superuser or self.role == Role.OPS

    @property
    def is_manager(self) -> bool:
        return self.role == Role.SDR_MANAGER

    @property
    def is_prospector(self) -> bool:
        return self.role in PROSPECTING_ROLES

    def reports_to_id(self) -> int | None:
        """Who this user reports to: their manager, else their team's manager."""
        if self.manager_id:
            return self.manager_id
        return self.team.manager_id if self.team_id and self.team else None

    def managed_team_ids(self) -> list[int]:
        """Teams a manager runs: the ones they are named manager of, and their own."""
        ids = list(self.managed_teams.values_list("id", flat=True))
        if self.team_id and self.team_id not in ids:
            ids.append(self.team_id)
        return ids

    def watched_teams(self) -> models.QuerySet[Team]:
        """The teams whose queues and figures this user watches, by name: every team for
        ops, the ones a manager runs, none for anyone else."""
        if self.is_ops:
            return Team.objects.order_by("name")
        if self.is_manager:
            return Team.objects.filter(pk__in=self.managed_team_ids()).order_by("name")
        return Team.objects.none()


class ApiToken(AbstractAuthToken):
    """An API token (django-rest-knox's, stored as a hash): one per client or device, with
    a name its owner chose, expiring after API_TOKEN_TTL_DAYS. Revoked one by one by its
    owner or ops, and all at once when the owner's password changes or they are
    deactivated."""

    name = models.CharField(max_length=100, blank=True)

    class Meta:
        indexes = [models.Index(fields=["user", "created"], name="apitoken_user")]

    def __str__(self) -> str:
        return f"{self.name or 'token'} of {self.user_id}"


def active_sellers() -> models.QuerySet[User]:
    """Who may own an opportunity: active SALs and AEs."""
    return User.objects.filter(is_active=True, role__in=SELLING_ROLES)


def active_prospectors() -> models.QuerySet[User]:
    """Who may be credited with an opportunity or assigned an IQM: active SDRs and BDRs."""
    return User.objects.filter(is_active=True, role__in=PROSPECTING_ROLES)


class JobRun(models.Model):
    """One run of a periodic job: the slot it ran for, what it did, how it ended."""

    class State(models.TextChoices):
        RUNNING = "running", "Running"
        SUCCEEDED = "succeeded", "Succeeded"
        FAILED = "failed", "Failed"

    name = models.CharField(max_length=50)
    # The clock the job ran with (run_job --now, or beat's time); a re-run for the same
    # name and slot is a no-op thanks to the unique constraint.
    slot = models.DateTimeField()
    state = models.CharField(max_length=20, choices=State.choices, default=State.RUNNING)
    started_at = models.DateTimeField(auto_now_add=True)
    finished_at = models.DateTimeField(null=True, blank=True)
    counts = models.JSONField(default=dict, blank=True)
    errors = models.TextField(blank=True)
    # Who ran it by hand ("Run now" on the jobs page); None: beat's schedule.
    started_by = models.ForeignKey("User", null=True, blank=True, on_delete=models.SET_NULL, related_name="+")

    class Meta:
        constraints = [models.UniqueConstraint(fields=["name", "slot"], name="jobrun_name_slot")]
        indexes = [
            models.Index(fields=["-started_at"], name="jobrun_started"),
            # The few runs still running, which a new run of the same job may close.
            models.Index(fields=["name", "started_at"], name="jobrun_running", condition=models.Q(state="running")),
        ]

    def __str__(self) -> str:
        return f"{self.name} @ {self.slot:%Y-%m-%d %H:%M}"


class IdempotentRequest(models.Model):
    """A write sent with an `Idempotency-Key` header and the answer it got: the same key
    from the same user within IDEMPOTENCY_KEY_HOURS replays that answer and writes nothing
    (sdrcrm/idempotency.py)."""

    user = models.ForeignKey(User, on_delete=models.CASCADE, related_name="+", db_index=False)
    key = models.CharField(max_length=255)
    endpoint = models.CharField(max_length=255, help_text="method and path the key was first used on")
    body_hash = models.CharField(max_length=64, help_text="SHA-256 of the request body")
    status = models.PositiveSmallIntegerField()
    response = models.JSONField()
    created_at = models.DateTimeField()

    class Meta:
        constraints = [models.UniqueConstraint(fields=["user", "key"], name="idempotentrequest_user_key")]
        indexes = [models.Index(fields=["created_at"], name="idempotentrequest_created")]

    def __str__(self) -> str:
        return f"{self.key} by {self.user_id}"


class FieldChange(models.Model):
    """One field of a lead, contact, account or opportunity changed by an edit (docs/rules.md §11,
    data): by whom, when, from what to what (as text). Written by sdrcrm.field_history."""

    class Record(models.TextChoices):
        LEAD = "lead", "Lead"
        CONTACT = "contact", "Contact"
        ACCOUNT = "account", "Account"
        OPPORTUNITY = "opportunity", "Opportunity"

    record = models.CharField(max_length=20, choices=Record.choices)
    record_id = models.BigIntegerField()
    field = models.CharField(max_length=60)
    # Null is "no value" (an unset owner), apart from an empty text.
    old = models.TextField(null=True, blank=True)  # noqa: DJ001
    new = models.TextField(null=True, blank=True)  # noqa: DJ001
    by = models.ForeignKey("User", null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    at = models.DateTimeField()

    class Meta:
        indexes = [models.Index(fields=["record", "record_id", "at", "id"], name="fieldchange_record")]

    def __str__(self) -> str:
        return f"{self.record} {self.record_id}: {self.field} {self.old!r} → {self.new!r}"


class Notification(models.Model):
    """Something a person should know: an alert shown in the app (and sent on by mail or
    chat integrations later). sdrcrm.notifications.send writes every one of them."""

    class Kind(models.TextChoices):
        ROUTING = "routing", "Routing"
        SLA_BREACH = "sla_breach", "SLA breach"
        SLA_REASSIGNED = "sla_reassigned", "Reassigned after an SLA breach"
        TARGETED_UNFLAGGED = "targeted_unflagged", "Targeted account unflagged"
        STALE_OPPORTUNITY = "stale_opportunity", "Stale opportunity"
        NO_SHOW_NOT_REBOOKED = "no_show_not_rebooked", "IQM no-show not rebooked"
        LOST_DEAL = "lost_deal", "Lost deal"
        OPPORTUNITY_UNQUALIFIED = "opportunity_unqualified", "Opportunity unqualified"

    # A person's alert has a user; a channel's (e.g. "lost-deals", docs/rules.md §4) has a channel instead.
    user = models.ForeignKey(User, null=True, blank=True, on_delete=models.CASCADE, related_name="notifications",
                             db_index=False)
    channel = models.CharField(max_length=40, blank=True, db_index=True)
    kind = models.CharField(max_length=40, choices=Kind.choices)
    message = models.TextField()
    lead = models.ForeignKey("leads.Lead", null=True, blank=True, on_delete=models.CASCADE, related_name="+")
    opportunity = models.ForeignKey(
        "opportunities.Opportunity", null=True, blank=True, on_delete=models.CASCADE, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    read_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        indexes = [models.Index(fields=["user", "read_at", "-created_at"], name="notification_inbox")]
        constraints = [
            models.CheckConstraint(condition=Q(user__isnull=False) | ~Q(channel=""), name="notification_has_recipient"),
        ]

    def __str__(self) -> str:
        return f"{self.kind} → {self.user}"


class ConfigStamp(models.Model):
    """One row whose token changes with every change to the configuration that ingest
    caches (scoring and routing rules, territories, pools, queues): see sdrcrm.config."""

    token = models.CharField(max_length=32)

    def __str__(self) -> str:
        return self.token


class WebhookEndpoint(models.Model):
    """Where ops want the changes of some kinds sent (sdrcrm/webhooks.py): a URL, the
    secret each delivery is signed with, and the kinds of event."""

    class Event(models.TextChoices):
        LEAD_CREATED = "lead.created", "A lead is created"
        LEAD_STATUS_CHANGED = "lead.status_changed", "A lead's status changes"
        LEAD_ASSIGNED = "lead.assigned", "A lead's owner changes"
        OPPORTUNITY_STAGE_CHANGED = "opportunity.stage_changed", "An opportunity's stage changes"
        IQM_CREATED = "iqm.created", "An IQM is booked"

    url = models.URLField(max_length=500)
    secret = models.CharField(max_length=100)
    events = models.JSONField(default=list)
    description = models.CharField(max_length=200, blank=True)
    active = models.BooleanField(default=True)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)

    def __str__(self) -> str:
        return self.url


class WebhookEvent(models.Model):
    """The outbox: a change to send, written in the transaction that made it; its id is the
    one receivers dedupe by."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    kind = models.CharField(max_length=40)
    payload = models.JSONField()
    created_at = models.DateTimeField(default=timezone.now)

    def __str__(self) -> str:
        return f"{self.kind} {self.id}"


class WebhookDelivery(models.Model):
    """One event to one endpoint: tried until it answers 2xx, then delivered; after
    sdrcrm.webhooks.GIVE_UP_AFTER of failures, failed (ops may send it again)."""

    class State(models.TextChoices):
        PENDING = "pending", "Pending"
        DELIVERED = "delivered", "Delivered"
        FAILED = "failed", "Failed"

    event = models.ForeignKey(WebhookEvent, on_delete=models.CASCADE, related_name="deliveries")
    endpoint = models.ForeignKey(WebhookEndpoint, on_delete=models.CASCADE, related_name="deliveries", db_index=False)
    state = models.CharField(max_length=20, choices=State.choices, default=State.PENDING)
    attempts = models.PositiveIntegerField(default=0)
    next_attempt_at = models.DateTimeField(null=True, blank=True)
    last_status = models.PositiveIntegerField(null=True, blank=True)  # the HTTP status of the last try
    last_response = models.CharField(max_length=500, blank=True)  # its first 500 characters, or the error
    last_attempt_at = models.DateTimeField(null=True, blank=True)
    delivered_at = models.DateTimeField(null=True, blank=True)
    # When the try under way was claimed (None: none is); one claim at a time, and a claim
    # older than sdrcrm.webhooks.requeue_after() died with its worker.
    claimed_at = models.DateTimeField(null=True, blank=True)
    # When the `webhook_deliveries` job last sent its task again.
    requeued_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        indexes = [models.Index(fields=["endpoint", "-id"], name="webhookdelivery_endpoint"),
                   models.Index(fields=["state", "next_attempt_at"], name="webhookdelivery_due")]

    def __str__(self) -> str:
        return f"{self.event_id} → {self.endpoint_id}: {self.state}"
