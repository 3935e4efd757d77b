"""The leads app's records, one module per topic; everything is re-exported here, so
`from leads.models import Lead` works wherever the model lives."""

from .accounts import Account, AccountQuerySet, AccountType, ProspectingStatus
from .activities import (
    MAX_CLOCK_SKEW,
    TOUCH_TYPES,
    Activity,
    ActivityQuerySet,
    ActivityType,
    CallOutcome,
)
from .bulk_actions import BulkAction
from .deletion import LiveManager, SoftDeletable
from .imports import CampaignMember, Import, ImportMapping, ImportRow
from .people import (
    PERSON_COPY_FIELDS,
    BlockedDomain,
    Contact,
    ContactQuerySet,
    InitialSource,
    Lead,
    Person,
    PersonQuerySet,
    can_read,
    readable_ids,
)
from .queues import Queue, QueueTally
from .search import LeadSearch, LeadSearchQuerySet
from .sequences import Enrollment, EnrollmentQuerySet, Sequence, SequenceEvent, SequenceStep, StepType, Touch
from .statuses import (
    OPEN_STATUSES,
    REQUIRED_REASONS,
    TRANSITIONS,
    Cause,
    RecycleReason,
    Status,
    StatusChange,
    UnqualifiedReason,
    reason_label,
)
from .tasks import Task
from .tombstones import Erasure, Tombstone

__all__ = [
    "LeadSearch", "LeadSearchQuerySet",
    "MAX_CLOCK_SKEW", "OPEN_STATUSES", "PERSON_COPY_FIELDS", "REQUIRED_REASONS", "TOUCH_TYPES", "TRANSITIONS",
    "Account", "AccountQuerySet", "AccountType", "CallOutcome",
    "Activity", "ActivityQuerySet", "ActivityType", "BlockedDomain", "BulkAction", "Cause", "Contact",
    "ContactQuerySet",
    "Enrollment", "EnrollmentQuerySet", "Import", "ImportMapping", "ImportRow", "InitialSource", "Lead", "Person",
    "PersonQuerySet",
    "LiveManager", "ProspectingStatus", "SoftDeletable",
    "Queue", "QueueTally", "RecycleReason", "Sequence", "SequenceEvent", "SequenceStep", "Status", "StatusChange",
    "StepType", "Task",
    "Erasure", "CampaignMember", "Tombstone", "Touch", "UnqualifiedReason", "can_read", "readable_ids", "reason_label",
]
