"""Recoverable deletes (docs/rules.md §11.2): deleting a lead, contact, account or opportunity
hides it everywhere (the default managers leave deleted rows out), ops may restore it from
Recently deleted for TRASH_RETENTION_DAYS, and the nightly `trash_purge` job then deletes it
for good with what hangs off it. Every delete and restore leaves a FieldChange (field
`deleted`) saying who and when. Spam (leads/spam.py) is not this: it stays a hard delete.

The API, the pages, the admin and the job call these functions: `check_delete` and
`check_restore` decide who may and what must be moved first, `delete_record` and
`restore_record` check and write in one transaction."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from django.conf import settings
from django.db import transaction
from django.db.models import Exists, Model, OuterRef, Q, QuerySet
from django.utils import timezone

from opportunities.models import Opportunity
from sdrcrm.errors import Refused
from sdrcrm.models import FieldChange, User
from sdrcrm.pagination import Keyset

from . import sequences
from .models import Account, Contact, Lead

KINDS: dict[str, type[Model]] = {"lead": Lead, "contact": Contact, "account": Account, "opportunity": Opportunity}
KIND_KEYS = tuple(KINDS)  # the API's choices, and their OpenAPI enum (settings.SPECTACULAR_SETTINGS)
# Recently deleted, newest deletion first, 50 a page (the page and the API).
KEYSET = Keyset(["deleted_at"], default="-deleted_at", page_size=50)
# The purge's order: what points at an account (PROTECT) goes before the account.
PURGE_ORDER = ("opportunity", "contact", "lead", "account")
DELETED_FIELD = "deleted"  # the FieldChange of a delete (old: none, new: when) or a restore (the reverse)


@dataclass(frozen=True)
class Kind:
    key: str
    model: type[Model]

    @property
    def label(self) -> str:
        return str(self.model._meta.verbose_name)


def kind_of(key: str) -> Kind:
    """The kind named `key` (lead, contact, account, opportunity), or a refusal naming them."""
    if key not in KINDS:
        raise Refused(f"Unknown kind '{key}'; one of: {', '.join(KINDS)}.", field="kind")
    return Kind(key, KINDS[key])


def key_of(record: Model) -> str:
    return record._meta.model_name  # type: ignore[return-value]


def retention() -> timedelta:
    return timedelta(days=settings.TRASH_RETENTION_DAYS)


def restorable_until(record: Model) -> datetime:
    return record.deleted_at + retention()  # type: ignore[attr-defined]


def days_left(record: Model, now: datetime) -> int:
    """Whole days before the nightly purge may take `record` (0 on its last day)."""
    return max((restorable_until(record) - now).days, 0)


def may_delete(user: User, record: Model) -> bool:
    """Managers (what their `editable_by` gives them: their teams' records) and ops."""
    if not (user.is_ops or user.is_manager):
        return False
    return type(record).objects.editable_by(user).filter(pk=record.pk).exists()  # type: ignore[attr-defined]


def may_restore(user: User) -> bool:
    return bool(user.is_authenticated and user.is_ops)


def check_delete(record: Model, by: User) -> None:
    """Refuse (403) whoever may not delete `record`, and (409) a record that others still
    need: the contacts and opportunities of an account, the opportunities of a contact,
    the contact a converted lead became."""
    label = record._meta.verbose_name
    if not may_delete(by, record):
        raise Refused(f"Only a manager of the {label}'s team or Sales-Dev Ops may delete this {label}.", status=403)
    if isinstance(record, Lead) and record.is_converted:
        contact = f"contact {record.converted_to_id}" if record.converted_to_id else "a contact"
        raise Refused(f"This lead was converted into {contact}: it is that contact's history now. Delete the contact "
                      "instead, if that is what you mean.", status=409)
    if isinstance(record, Contact):
        deals = Opportunity.objects.filter(Q(primary_contact=record) | Q(reseller_contact=record)).count()
        if deals:
            raise Refused(f"{record.full_name} is the contact of {_count(deals, 'live opportunity')}: move those "
                          "opportunities to another contact or delete them first.", status=409)
    if isinstance(record, Account):
        contacts = Contact.objects.filter(account=record).count()
        deals = Opportunity.objects.filter(Q(account=record) | Q(reseller_account=record)).count()
        if contacts or deals:
            what = " and ".join(_count(n, noun) for n, noun in ((contacts, "live contact"), (deals, "live opportunity"))
                                if n)
            raise Refused(f"{record.name} still has {what}: move them to another account or delete them first.",
                          status=409)


@transaction.atomic
def delete_record(record: Model, by: User, now: datetime | None = None) -> bool:
    """Soft-delete `record` after `check_delete`: hidden everywhere from now on, restorable
    by ops. A lead's or contact's active sequence enrolments end (their step tasks go, as
    any finished enrolment's do); its other open tasks are hidden with it and come back on
    restore. Deleting again changes nothing. Returns True when this call deleted it."""
    now = now or timezone.now()
    check_delete(record, by)
    model = type(record)
    deleted = bool(model.objects.filter(pk=record.pk).update(deleted_at=now, deleted_by=by))  # type: ignore[attr-defined]
    if not deleted:
        return False
    if isinstance(record, Lead | Contact):
        sequences.finish_enrollments(record, sequences.Reason.MANUAL, now)
    FieldChange.objects.create(record=key_of(record), record_id=record.pk, field=DELETED_FIELD, old=None,
                               new=now.isoformat(), by=by, at=now)
    record.deleted_at, record.deleted_by = now, by  # type: ignore[attr-defined]
    return True


def deleted_of(kind: Kind) -> QuerySet:
    """The kind's deleted records still restorable, newest deletion first (the partial
    `…_deleted` index); who deleted each comes with it."""
    return (kind.model.all_objects.filter(deleted_at__gte=timezone.now() - retention())  # type: ignore[attr-defined]
            .select_related("deleted_by"))


def check_restore(kind: Kind, pk: int, by: User, now: datetime | None = None) -> Model:
    """The deleted record `pk` of `kind` that `by` may restore now, or a refusal: ops only
    (403); one not deleted, past its TRASH_RETENTION_DAYS or purged (404); a contact or an
    opportunity whose account is deleted (409: restore the account first)."""
    now = now or timezone.now()
    if not may_restore(by):
        raise Refused("Only Sales-Dev Ops may restore deleted records.", status=403)
    record = kind.model.all_objects.filter(pk=pk, deleted_at__isnull=False).first()  # type: ignore[attr-defined]
    if record is None or record.deleted_at < now - retention():
        raise Refused(f"No deleted {kind.label} {pk} to restore: deleted records may be restored for "
                      f"{settings.TRASH_RETENTION_DAYS} days, then they are purged.", status=404)
    if isinstance(record, Contact | Opportunity) and record.account_id is not None:
        account = Account.all_objects.filter(pk=record.account_id, deleted_at__isnull=False).first()
        if account is not None:
            raise Refused(f"Its account, {account.name} (account {account.pk}), is deleted: restore the account "
                          "first.", status=409)
    return record


@transaction.atomic
def restore_record(kind: Kind, pk: int, by: User, now: datetime | None = None) -> Model:
    """Bring a deleted record back as it was (ops, within TRASH_RETENTION_DAYS): it shows
    again wherever it did, with its open tasks. Ended enrolments stay ended."""
    now = now or timezone.now()
    record = check_restore(kind, pk, by, now)
    deleted_at = record.deleted_at  # type: ignore[attr-defined]
    restored = kind.model.all_objects.filter(pk=pk, deleted_at=deleted_at).update(  # type: ignore[attr-defined]
        deleted_at=None, deleted_by=None)
    if restored:
        FieldChange.objects.create(record=kind.key, record_id=pk, field=DELETED_FIELD, old=deleted_at.isoformat(),
                                   new=None, by=by, at=now)
    record.deleted_at, record.deleted_by = None, None  # type: ignore[attr-defined]
    return record


def purge_expired(now: datetime, batch_size: int | None = None) -> dict[str, int]:
    """`trash_purge` (nightly): records deleted more than TRASH_RETENTION_DAYS before `now`
    are deleted for good with their dependents (the foreign keys' cascades), `batch_size`
    ids (TRASH_PURGE_BATCH) per transaction. Opportunities first, accounts last; an account
    that a deleted opportunity still points at (PROTECT) waits for that one's purge."""
    size = batch_size or settings.TRASH_PURGE_BATCH
    cutoff = now - retention()
    counts = {}
    for key in PURGE_ORDER:
        model = KINDS[key]
        expired = model.all_objects.filter(deleted_at__isnull=False, deleted_at__lt=cutoff)  # type: ignore[attr-defined]
        if model is Account:
            expired = expired.exclude(Exists(Opportunity.all_objects.filter(account=OuterRef("pk"))))
        counts[key] = 0
        last = 0
        while True:
            with transaction.atomic():
                # Keyset by id: an id that could not go (none should) is not read again.
                ids = list(expired.filter(id__gt=last).order_by("id").values_list("id", flat=True)[:size])
                if not ids:
                    break
                last = ids[-1]
                deleted = model.all_objects.filter(id__in=ids).only("id").delete()[1]  # type: ignore[attr-defined]
            counts[key] += deleted.get(model._meta.label, 0)
    return counts


def _count(n: int, noun: str) -> str:
    plural = noun[:-1] + "ies" if noun.endswith("y") else noun + "s"
    return f"{n} {noun if n == 1 else plural}"
