"""The people SDRs work: leads and contacts (docs/rules.md §8.1), who may see and change them, and
ops' block list of email domains."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q

from sdrcrm.models import Region, Segment, User

from .accounts import Account
from .deletion import LiveManager, SoftDeletable
from .queues import Queue
from .statuses import Status, reason_label

USER = settings.AUTH_USER_MODEL


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



# The fields a contact takes from its lead when it is converted (leads/conversion.py).
PERSON_COPY_FIELDS = (
    "first_name", "last_name", "email", "title", "phone", "company", "country", "state", "city",
    "employee_count", "industry", "public_sector", "initial_source", "lead_source", "last_interesting_moment",
    "last_interesting_moment_at", "inactive", "opted_out", "high_priority", "last_handraise_at", "active_until",
    "is_passive", "segment", "region", "sub_region",
)


class BlockedDomain(models.Model):
    """Ops' block list: people at these email domains are refused on ingest."""

    domain = models.CharField(max_length=253, unique=True)
    reason = models.CharField(max_length=200, blank=True)
    created_by = models.ForeignKey(USER, null=True, blank=True, on_delete=models.SET_NULL)
    created_at = models.DateTimeField(auto_now_add=True)

    def __str__(self) -> str:
        return self.domain



class PersonQuerySet(models.QuerySet):
    def visible_to(self, user: User) -> PersonQuerySet:
        """docs/rules.md §8.2: the one place record-level read access is decided."""
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


def can_read(person: Person, user: User) -> bool:
    """Whether `user` may read `person`, as `visible_to` decides, answered without a query
    where the rule needs none (ops read everything, integrations what they created)."""
    if user.is_ops:
        return True
    if user.role == "integration":
        return person.created_by_id == user.pk
    return type(person).objects.visible_to(user).filter(pk=person.pk).exists()


def readable_ids(people: list[Person], user: User) -> set[int]:
    """The ids of `people` (all of one model) that `user` may read: `can_read` for many,
    in a fixed number of queries however many there are."""
    if user.is_ops or user.role == "integration" or not people:
        return {person.pk for person in people if can_read(person, user)}
    model = type(people[0])
    return set(model.objects.visible_to(user).filter(pk__in=[p.pk for p in people]).values_list("pk", flat=True))


class ContactQuerySet(PersonQuerySet):
    def _visible_to_seller(self, user: User) -> PersonQuerySet:
        return self.filter(Q(owner=user) | Q(account__owner=user))


class Person(SoftDeletable):
    """The fields a lead and a contact share (docs/rules.md §8.1)."""

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
    # The first time the person was Accepted, and in Qualifying (the SAO dashboard's funnel);
    # like mql_at, the earlier of the two when records merge or a lead becomes a contact.
    accepted_at = models.DateTimeField(null=True, blank=True)
    qualifying_at = models.DateTimeField(null=True, blank=True)
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

    class Meta(SoftDeletable.Meta):
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
    # Indexed where set only (lead_account, lead_converted_to, lead_spam_marked_by): most
    # leads have none, and every write of a lead would add its empty entry to each index.
    account = models.ForeignKey(
        Account, null=True, blank=True, on_delete=models.SET_NULL, related_name="matched_leads", db_index=False
    )
    converted_to = models.ForeignKey(
        "Contact", null=True, blank=True, on_delete=models.SET_NULL, related_name="converted_from", db_index=False
    )
    # The SLA clock (docs/rules.md §2, routing/jobs.py): a routed contact or professional services
    # request owes a follow-up touch by `sla_due_at`; the sla_breaches job stamps
    # `sla_breached_at` when it is missed and may reassign through `sla_pool`, the pool
    # the lead was routed from (blank: not routed through a pool, never reassigned).
    sla_due_at = models.DateTimeField(null=True, blank=True)
    sla_breached_at = models.DateTimeField(null=True, blank=True)
    sla_pool = models.CharField(max_length=100, blank=True)
    # Marked as spam by a person; the nightly spam_deletion job deletes it for good and
    # keeps a Tombstone (docs/rules.md §3).
    spam_marked_at = models.DateTimeField(null=True, blank=True)
    spam_marked_by = models.ForeignKey(USER, null=True, blank=True, on_delete=models.SET_NULL, related_name="+",
                                       db_index=False)
    spam_block_domain = models.BooleanField(default=False)

    objects = LiveManager.from_queryset(PersonQuerySet)()
    all_objects = PersonQuerySet.as_manager()  # deleted ones too (leads/models/deletion.py)

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
            # Queued leads only: an owned lead has no queue, and its writes skip this index.
            models.Index(fields=["queue", "status_changed_at", "id"], name="lead_queued",
                         condition=Q(queue__isnull=False)),
            models.Index(fields=["account"], name="lead_account", condition=Q(account__isnull=False)),
            models.Index(fields=["converted_to"], name="lead_converted_to", condition=Q(converted_to__isnull=False)),
            models.Index(fields=["spam_marked_by"], name="lead_spam_marked_by",
                         condition=Q(spam_marked_by__isnull=False)),
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
            # The SAO dashboard's funnel: an SDR's (or a team's) leads that became MQL in a
            # period, counted per source from the index alone on PostgreSQL.
            # Live leads only, so the funnel still reads it alone (a deleted lead leaves the funnel).
            models.Index(fields=["owner", "mql_at"], include=["initial_source", "id", "accepted_at", "qualifying_at"],
                         name="lead_owner_mql_live",
                         condition=Q(mql_at__isnull=False, deleted_at__isnull=True)),
            # An SDR's follow-ups due, by due time (the Today page): only leads with a clock.
            models.Index(fields=["owner", "sla_due_at", "id"], name="lead_owner_sla",
                         condition=Q(sla_due_at__isnull=False)),
            models.Index(fields=["spam_marked_at", "id"], name="lead_spam_marked",
                         condition=Q(spam_marked_at__isnull=False)),
            # Recently deleted, and the trash_purge job: deleted leads by when.
            models.Index(fields=["deleted_at", "id"], name="lead_deleted", condition=Q(deleted_at__isnull=False)),
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
    account = models.ForeignKey(Account, null=True, blank=True, on_delete=models.SET_NULL, related_name="contacts",
                                db_index=False)
    role = models.CharField(max_length=20, choices=Role.choices, blank=True)

    objects = LiveManager.from_queryset(ContactQuerySet)()
    all_objects = ContactQuerySet.as_manager()  # deleted ones too (leads/models/deletion.py)

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
            models.Index(fields=["deleted_at", "id"], name="contact_deleted", condition=Q(deleted_at__isnull=False)),
        ]

