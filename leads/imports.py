"""Imports of leads or contacts from a CSV or XLSX file (docs/rules.md §5.3), with a dry run.

The file is read into a table (`read_table`: the encoding of a CSV found from its byte
order mark, else UTF-8, else Latin-1; an XLSX's one sheet, or the one named; a formula
read as its text, never evaluated), its headers matched to lead fields by name and common
synonyms (`columns_of`), then every row checked (`check`): each problem reported per row
and column, and the import recorded with its rows, before any lead is written. Running it
(`start`, `execute`: at once when small, else on the worker) gives the checked rows to the
same batch ingest as `POST leads/bulk/` (leads/bulk.py), BATCH at a time, one transaction
per batch with the import's progress: upserted by email, scored and routed as the API
would. A contacts' file is upserted by email too, through the contact services, each
contact put on the account its company matches. A row that would change nothing of the
person already stored is left alone ("unchanged"), so importing the same file twice
changes nothing. Every person of the file that passed the checks is put on the import's
campaign, once.

A field's own validation (a number, a country, a choice) is the API serializer's, passed
in by the caller as `validate`, which raises `Invalid`."""

from __future__ import annotations

import codecs
import csv
import hashlib
import io
from collections import Counter
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from django.conf import settings
from django.db import transaction
from django.db.models import F, QuerySet
from django.utils import timezone

from sdrcrm import config
from sdrcrm.celery import enqueue
from sdrcrm.errors import Refused
from sdrcrm.models import PROSPECTING_ROLES, Role, User
from sdrcrm.webhooks import AssignCause

from . import bulk, checks, domains, people
from .models import BlockedDomain, CampaignMember, Contact, Import, ImportMapping, ImportRow, Lead, Person

MAX_BYTES = 20 * 1024 * 1024
MAX_ROWS = 100_000
BATCH = 500
EXTENSIONS = {".csv": "csv", ".txt": "csv", ".xlsx": "xlsx"}
ERRORS_SHOWN = 1000  # problems listed in the answer; the error file has them all

# Lead field → the headers that mean it (compared lower-cased, with "_" and "-" as spaces).
SYNONYMS: dict[str, tuple[str, ...]] = {
    "email": ("email", "e mail", "email address", "work email", "business email"),
    "first_name": ("first name", "firstname", "given name", "first"),
    "last_name": ("last name", "lastname", "surname", "family name", "last"),
    "title": ("title", "job title", "position", "role"),
    "phone": ("phone", "phone number", "telephone", "mobile", "work phone"),
    "company": ("company", "company name", "organization", "organisation", "account name"),
    "country": ("country", "country code"),
    "state": ("state", "state code", "province", "region state"),
    "city": ("city", "town"),
    "employee_count": ("employee count", "employees", "number of employees", "company size", "headcount"),
    "industry": ("industry",),
    "initial_source": ("initial source", "source", "lead source"),
    "opted_out": ("opted out", "opt out", "email opt out", "unsubscribed", "do not email"),
    "owner": ("owner", "lead owner", "owner username", "owner email"),
}
YES = {"yes", "y", "true", "1", "x", "opted out", "unsubscribed"}
NO = {"", "no", "n", "false", "0"}


class Invalid(Exception):
    """What `validate` raises: the row's problems, by field."""

    def __init__(self, errors: dict[str, list[str]]) -> None:
        super().__init__("; ".join(f"{name}: {' '.join(messages)}" for name, messages in errors.items()))
        self.errors = errors


@dataclass
class Table:
    headers: list[str]
    rows: list[list[str]]  # row n is the file's line (or sheet row) n + 2


@dataclass
class RowCheck:
    line: int
    values: list[str]
    data: dict[str, Any] | None = None  # what to ingest, when the row is good
    errors: dict[str, list[str]] = field(default_factory=dict)
    new: bool = False  # no lead has its email yet
    unchanged: bool = False


@dataclass
class Outcome:
    record: Import
    problems: list[dict[str, Any]]  # up to ERRORS_SHOWN: {"line", "errors": {column: [messages]}}


IMPORTERS = {*PROSPECTING_ROLES, Role.SDR_MANAGER, Role.OPS, Role.INTEGRATION}
CAMPAIGN_LENGTH = 100


def check_importer(user: User) -> None:
    """Imports are for sales development, their managers, ops and integrations (403)."""
    if user.role not in IMPORTERS:
        raise Refused("Imports are for sales development, their managers, ops and integrations.", status=403)


def imports_of(user: User) -> QuerySet[Import]:
    """The imports `user` may see: their own; ops, everyone's."""
    return Import.objects.all() if user.is_ops else Import.objects.filter(created_by=user)


# --- Reading the file ----------------------------------------------------------------------

def read_table(name: str, content: bytes, sheet: str = "") -> Table:
    """The file's header row and rows, all as text; refused in words when it cannot be
    read as a table."""
    kind = EXTENSIONS.get(name[name.rfind("."):].lower() if "." in name else "")
    if kind is None:
        raise Refused("Send a .csv or .xlsx file.", field="file")
    if not content:
        raise Refused("The file is empty.", field="file")
    if len(content) > MAX_BYTES:
        raise Refused(f"The file is over {MAX_BYTES // (1024 * 1024)} MB; split it.", field="file")
    rows = _xlsx_rows(content, sheet) if kind == "xlsx" else _csv_rows(content)
    rows = [row for row in rows if any(value.strip() for value in row)]
    if not rows:
        raise Refused("The file is empty.", field="file")
    if len(rows) - 1 > MAX_ROWS:
        raise Refused(f"The file has {len(rows) - 1:,} rows; at most {MAX_ROWS:,} at a time.", field="file")
    headers = [value.strip() for value in rows[0]]
    width = len(headers)
    return Table(headers, [(row + [""] * width)[:width] for row in rows[1:]])


def decode(content: bytes) -> str:
    """A CSV's text: UTF-8 or UTF-16 by their byte order mark, else UTF-8, else Latin-1
    (every byte is a Latin-1 character, so it never fails)."""
    for bom, encoding in ((codecs.BOM_UTF8, "utf-8-sig"), (codecs.BOM_UTF16_LE, "utf-16"),
                          (codecs.BOM_UTF16_BE, "utf-16")):
        if content.startswith(bom):
            try:
                return content.decode(encoding)
            except UnicodeDecodeError:
                raise Refused(f"The file starts as {encoding.upper()} but is not.", field="file") from None
    try:
        return content.decode("utf-8")
    except UnicodeDecodeError:
        return content.decode("latin-1")


def _csv_rows(content: bytes) -> list[list[str]]:
    text = decode(content)
    if "\x00" in text:
        raise Refused("This is not a CSV file (it holds binary data).", field="file")
    try:
        dialect: Any = csv.Sniffer().sniff(text[:4096], delimiters=",;\t")
    except csv.Error:
        dialect = csv.excel
    try:
        return [list(row) for row in csv.reader(io.StringIO(text), dialect)]
    except csv.Error as error:
        raise Refused(f"The CSV cannot be read: {error}.", field="file") from None


def _xlsx_rows(content: bytes, sheet: str) -> list[list[str]]:
    from openpyxl import load_workbook

    # Whatever bytes are sent arrive here: any failure to read them as a workbook (a bad
    # zip, bad XML, a part missing) is the file's fault, answered in words.
    try:
        # data_only=False: a formula is read as its text ("=1+1"), never as a result.
        book = load_workbook(io.BytesIO(content), read_only=True, data_only=False)
    except Exception as error:  # noqa: BLE001 - see above
        raise Refused(f"This is not an XLSX file that can be read ({type(error).__name__}).", field="file") from None
    try:
        names = book.sheetnames
        if sheet and sheet not in names:
            raise Refused(f"No sheet '{sheet}'; the file has {', '.join(names)}.", field="sheet")
        if not sheet and len(names) > 1:
            raise Refused(f"The file has several sheets ({', '.join(names)}); say which one.", field="sheet")
        try:
            return [["" if value is None else str(value) for value in row]
                    for row in book[sheet or names[0]].iter_rows(values_only=True)]
        except Exception as error:  # noqa: BLE001 - as above: read lazily, so it fails here
            raise Refused(f"The sheet cannot be read ({type(error).__name__}).", field="file") from None
    finally:
        book.close()


def sha256(content: bytes) -> str:
    return hashlib.sha256(content).hexdigest()


# --- Columns -------------------------------------------------------------------------------

def _plain(header: str) -> str:
    return " ".join(header.lower().replace("_", " ").replace("-", " ").split())


def columns_of(headers: list[str], mapping: Mapping[str, str] | None = None,
               saved: Mapping[str, str] | None = None) -> dict[int, str]:
    """Which lead field each column fills (by its index): `mapping` (header → field, or ""
    to leave a column out) first, then the user's `saved` mappings (`saved_mapping`), then
    the headers' names and synonyms. Refused when no column is the email, a field is given
    twice, or the mapping names what is not there."""
    mapping = dict(mapping or {})
    saved = saved or {}
    for header, target in mapping.items():
        if header not in headers:
            raise Refused(f"The mapping names a column '{header}' the file does not have.", field="mapping")
        if target and target not in SYNONYMS:
            raise Refused(f"'{target}' is not a field an import fills; one of: {', '.join(SYNONYMS)}.",
                          field="mapping")
    known = {synonym: target for target, synonyms in SYNONYMS.items() for synonym in synonyms}
    columns: dict[int, str] = {}
    for index, header in enumerate(headers):
        plain = _plain(header)
        target = mapping[header] if header in mapping else saved.get(plain, known.get(plain, ""))
        if not target:
            continue
        if target in columns.values():
            taken = headers[next(i for i, t in columns.items() if t == target)]
            raise Refused(f"Both '{taken}' and '{header}' would fill {target}; map one of them to nothing.",
                          field="mapping")
        columns[index] = target
    if "email" not in columns.values():
        raise Refused("No column is the email (name one 'email', or map it).", field="mapping")
    return columns


def saved_mapping(user: User) -> dict[str, str]:
    """The column names `user` has mapped by hand before, and what each filled."""
    return dict(ImportMapping.objects.filter(user=user).values_list("header", "field"))


def remember(user: User, mapping: Mapping[str, str]) -> None:
    """Keep the user's hand-made mapping for their next files (one upsert)."""
    ImportMapping.objects.bulk_create(
        [ImportMapping(user=user, header=_plain(header)[:255], field=target) for header, target in mapping.items()],
        update_conflicts=True, unique_fields=["user", "header"], update_fields=["field"])


# --- Checking and running ------------------------------------------------------------------

def check_rows(table: Table, columns: dict[int, str], by: User,
               validate: Callable[[dict[str, Any]], dict[str, Any]], kind: str = Import.Kind.LEAD) -> list[RowCheck]:
    """Every row with its problems, per column (a header of the file), or with the data to
    ingest. `validate`: the API's own checks of the fields, which raise Invalid."""
    header_of = {target: table.headers[index] for index, target in columns.items()}
    owners = _owners(table, columns)
    email_at = next(index for index, target in columns.items() if target == "email")
    blocked = set(BlockedDomain.objects.filter(domain__in={
        domains.email_domain(row[email_at].strip().lower()) for row in table.rows}).values_list("domain", flat=True))
    checked: list[RowCheck] = []
    first_line: dict[str, int] = {}
    for n, values in enumerate(table.rows):
        row = RowCheck(line=n + 2, values=values)
        checked.append(row)
        raw = {target: values[index].strip() for index, target in columns.items() if values[index].strip()}
        errors: dict[str, list[str]] = {}
        email = raw.get("email", "").lower()
        try:
            raw["email"] = checks.check_email_allowed(email, blocked) if email else ""
        except Refused as refused:
            errors.setdefault("email", []).append(refused.message)
        if not email:
            errors.setdefault("email", []).append("The email is missing.")
        elif email in first_line:
            errors.setdefault("email", []).append(f"The same email as line {first_line[email]}.")
        else:
            first_line[email] = row.line
        if "opted_out" in raw:
            answer = raw["opted_out"].lower()
            if answer not in YES | NO:
                errors.setdefault("opted_out", []).append(f"'{raw['opted_out']}' is not yes or no.")
            raw["opted_out"] = answer in YES
        if "owner" in raw:
            owner = owners.get(raw["owner"].lower())
            if owner is None:
                errors.setdefault("owner", []).append(f"No active user '{raw['owner']}'.")
            raw["owner"] = owner.pk if owner else None
        elif by.role in PROSPECTING_ROLES:
            raw["owner"] = by.pk  # an SDR's own list is theirs
        if not errors:
            try:
                row.data = validate(raw)
                checks.check_owner_assignable(row.data.get("owner"), by)
            except Invalid as invalid:
                for name, messages in invalid.errors.items():
                    errors.setdefault(name, []).extend(messages)
            except Refused as refused:
                errors.setdefault(refused.field or "", []).append(refused.message)
        row.errors = {header_of.get(name, name or "row"): messages for name, messages in errors.items()}
        if row.errors:
            row.data = None
    _new_or_unchanged([row for row in checked if row.data is not None], header_of, kind)
    return checked


def _owners(table: Table, columns: dict[int, str]) -> dict[str, User]:
    """The active users the owner column names, by username or email (lower-cased)."""
    index = next((i for i, target in columns.items() if target == "owner"), None)
    if index is None:
        return {}
    names = {row[index].strip().lower() for row in table.rows if row[index].strip()}
    found: dict[str, User] = {}
    for user in User.objects.filter(is_active=True).only("pk", "username", "email", "role", "team_id"):
        for name in (user.username.lower(), user.email.lower()):
            if name in names:
                found[name] = user
    return found


def _new_or_unchanged(rows: list[RowCheck], header_of: dict[str, str], kind: str) -> None:
    """A row for a new person must name its last name and initial source; a row for one
    already stored that would change none of their fields is marked unchanged; a row for a
    deleted one is refused (ops restore it instead)."""
    stored = stored_people(kind, [row.data["email"] for row in rows if row.data])
    for row in rows:
        assert row.data is not None
        person = stored.get(row.data["email"])
        row.new = person is None
        if person is not None and person.deleted_at is not None:
            row.errors[header_of["email"]] = [
                f"The {kind} with this email was deleted on {person.deleted_at:%Y-%m-%d}; Sales-Dev Ops can restore "
                "it from Recently deleted."]
            row.data = None
            continue
        if person is None:
            missing = [name for name in ("last_name", "initial_source") if not row.data.get(name)]
            for name in missing:
                row.errors[header_of.get(name, name)] = [f"A new {kind} needs its {name.replace('_', ' ')}."]
            if missing:
                row.data = None
            continue
        row.unchanged = _unchanged(person, row.data)


def stored_people(kind: str, emails: list[str]) -> dict[str, Person]:
    """The people of `kind` stored with these emails (deleted ones too), by email; a
    contact's email is not unique: the newest one with it."""
    if kind == Import.Kind.LEAD:
        return Lead.all_objects.in_bulk(emails, field_name="email")
    found: dict[str, Person] = {}
    for contact in Contact.all_objects.filter(email__in=emails).order_by("id"):
        found[contact.email] = contact
    return found


def _unchanged(person: Person, data: Mapping[str, Any]) -> bool:
    """Whether ingesting `data` would change none of the person's fields (compared as the
    ingest stores them: names capitalised)."""
    return all(_same(person, name, value) for name, value in checks.clean_person_fields(data).items()
               if name != "queue")


def _same(person: Person, name: str, value: Any) -> bool:
    if name == "owner":
        return person.owner_id == (value.pk if isinstance(value, User) else value)
    if name == "initial_source":  # an ingest makes it a lead's latest source; a contact's is set once
        return (person.lead_source if isinstance(person, Lead) else person.initial_source) == value
    return getattr(person, name) == value


def check(table: Table, columns: dict[int, str], by: User, validate: Callable[[dict[str, Any]], dict[str, Any]], *,
          file_name: str, content: bytes, sheet: str = "", kind: str = Import.Kind.LEAD,
          campaign: str = "") -> Outcome:
    """Check every row (the dry run) and record the import, its rows and what a run would
    do; no lead or contact is written. `campaign`: the list's campaign, which a run puts
    each of its people on."""
    if kind not in Import.Kind.values:
        raise Refused(f"An import is of {' or '.join(Import.Kind.values)}.", field="kind")
    campaign = " ".join(campaign.split())
    if len(campaign) > CAMPAIGN_LENGTH:
        raise Refused(f"A campaign's name is at most {CAMPAIGN_LENGTH} characters.", field="campaign")
    with transaction.atomic():
        record = Import.objects.create(file_name=file_name[:255], sha256=sha256(content), size=len(content),
                                       sheet=sheet, headers=table.headers, created_by=by, kind=kind,
                                       campaign=campaign)
        return Outcome(record, _check_into(record, table, columns, by, validate))


def recheck(record: Import, mapping: Mapping[str, str], by: User,
            validate: Callable[[dict[str, Any]], dict[str, Any]]) -> Outcome:
    """Check a checked import's rows again with another mapping (its rows keep the file's
    cells, so the file need not be sent again)."""
    rows = ImportRow.objects.filter(batch=record).order_by("line")
    table = Table(record.headers, [row.values for row in rows])
    columns = columns_of(table.headers, mapping)
    remember(by, mapping)
    with transaction.atomic():
        if not Import.objects.select_for_update().filter(pk=record.pk, state=Import.State.CHECKED).exists():
            raise Refused("This import has already been run; its mapping stays as it ran.", status=409)
        ImportRow.objects.filter(batch=record).delete()
        return Outcome(record, _check_into(record, table, columns, by, validate))


def _check_into(record: Import, table: Table, columns: dict[int, str], by: User,
                validate: Callable[[dict[str, Any]], dict[str, Any]]) -> list[dict[str, Any]]:
    """Check the table's rows into the import (its rows and counts); the problems shown."""
    checked = check_rows(table, columns, by, validate, record.kind)
    good = [row for row in checked if row.data is not None]
    rejected = [row for row in checked if row.data is None]
    record.mapping = {table.headers[index]: target for index, target in columns.items()}
    record.rows, record.good, record.rejected = len(checked), len(good), len(rejected)
    record.created = sum(row.new for row in good)
    record.updated = sum(not row.new and not row.unchanged for row in good)
    record.unchanged = sum(row.unchanged for row in good)
    record.save(update_fields=["mapping", "rows", "good", "rejected", "created", "updated", "unchanged"])
    ImportRow.objects.bulk_create(
        [ImportRow(batch=record, line=row.line, values=row.values, data=_stored(row.data) if row.data else None,
                   errors=row.errors, result=ImportRow.Result.PENDING if row.data else ImportRow.Result.REJECTED)
         for row in checked], batch_size=2000)
    return [{"line": row.line, "errors": row.errors} for row in rejected[:ERRORS_SHOWN]]


def _stored(data: dict[str, Any]) -> dict[str, Any]:
    """The checked fields as JSON: the owner by id."""
    return {name: value.pk if isinstance(value, User) else value for name, value in data.items()}


def start(record: Import) -> Import:
    """Run a checked import: at once when it is small, else on the worker (its page shows
    the progress). Refused when it has already been started."""
    if not Import.objects.filter(pk=record.pk, state=Import.State.CHECKED).update(
            state=Import.State.QUEUED, created=0, updated=0, unchanged=0):
        raise Refused("This import has already been run.", status=409)
    if record.good <= settings.IMPORT_INLINE:
        execute(record.pk)
    else:
        enqueue("leads.tasks.run_import", record.pk)
    record.refresh_from_db()
    return record


def execute(import_id: int) -> Import | None:
    """Ingest the import's checked rows not run yet, BATCH at a time, each batch with its
    progress and counts in one transaction: a worker lost mid-import resumes after the last
    batch it committed, and no row is ingested twice."""
    record = Import.objects.select_related("created_by").filter(pk=import_id).first()
    if record is None or record.state in (Import.State.CHECKED, Import.State.FINISHED):
        return record
    Import.objects.filter(pk=record.pk).update(state=Import.State.RUNNING)
    by = record.created_by
    after = 0  # the last line of the batch before: each batch is read from the (import, line) index onwards
    while True:
        # One view of the configuration a batch, as a request has (sdrcrm.config.pinned): its
        # token read once, not once a row.
        with config.pinned(), transaction.atomic():
            batch = list(ImportRow.objects.select_for_update().filter(
                # `errors` too: it is read for every row below, and a deferred field is a query a row.
                batch=record, line__gt=after, result=ImportRow.Result.PENDING).only("pk", "line", "data", "errors")
                .order_by("line")[:BATCH])
            if not batch:
                break
            after = batch[-1].line
            counts = (_ingest if record.kind == Import.Kind.LEAD else _ingest_contacts)(batch, by)
            if record.campaign:
                _tag(record, batch)
            # One update per result (bulk_update's CASE per row cost more than the ingest).
            for result in counts:
                ImportRow.objects.filter(pk__in=[row.pk for row in batch if row.result == result]).update(
                    result=result)
            for row in batch:
                if row.errors:
                    ImportRow.objects.filter(pk=row.pk).update(errors=row.errors)
            Import.objects.filter(pk=record.pk).update(
                rows_done=F("rows_done") + len(batch), created=F("created") + counts["created"],
                updated=F("updated") + counts["updated"], unchanged=F("unchanged") + counts["unchanged"],
                rejected=F("rejected") + counts["rejected"])
    Import.objects.filter(pk=record.pk).update(state=Import.State.FINISHED, finished_at=timezone.now())
    record.refresh_from_db()
    return record


def _ingest(batch: list[ImportRow], by: User | None) -> Counter[str]:
    """One batch through the bulk ingest (as `POST leads/bulk/`), after leaving out the
    rows that would change nothing; each row's result (and lead) set on it."""
    owners = User.objects.in_bulk({row.data["owner"] for row in batch if row.data.get("owner")})
    stored = Lead.objects.in_bulk([row.data["email"] for row in batch], field_name="email")
    todo = []
    for row in batch:
        data = {**row.data, **({"owner": owners.get(row.data["owner"])} if row.data.get("owner") else {})}
        lead = stored.get(data["email"])
        if lead is not None and _unchanged(lead, data):
            row.result, row.person = ImportRow.Result.UNCHANGED, lead
        else:
            todo.append((row, data))
    outcomes = bulk.ingest_batch([(data, []) for _, data in todo], by=by, cause=AssignCause.IMPORT)
    for (row, _), outcome in zip(todo, outcomes, strict=True):
        row.result, row.person = outcome.result, outcome.lead
        if outcome.result == ImportRow.Result.REJECTED:
            row.errors = {"row": [outcome.detail]}
    return Counter(row.result for row in batch)


def _ingest_contacts(batch: list[ImportRow], by: User | None) -> Counter[str]:
    """One batch of contacts: each row created or updated through the contact services in a
    savepoint of its own (a refused row keeps its reason and the others go on), on the
    account its company matches (the accounts found for the batch at once)."""
    owners = User.objects.in_bulk({row.data["owner"] for row in batch if row.data.get("owner")})
    stored = stored_people(Import.Kind.CONTACT, [row.data["email"] for row in batch])
    accounts = bulk.AccountIndex((row.data["email"], row.data.get("company") or "") for row in batch)
    for row in batch:
        data = {**row.data, **({"owner": owners.get(row.data["owner"])} if row.data.get("owner") else {})}
        contact = stored.get(data["email"])
        if contact is not None and _unchanged(contact, data):
            row.result, row.person = ImportRow.Result.UNCHANGED, contact
            continue
        try:
            with transaction.atomic():
                if contact is None:
                    data["account"] = accounts.match(data["email"], data.get("company") or "")
                    row.person, row.result = people.create_contact(data, by), ImportRow.Result.CREATED
                else:
                    data.pop("initial_source", None)  # set once, on creation
                    row.person, row.result = people.update_person(contact, data, by), ImportRow.Result.UPDATED
        except Refused as refused:
            row.person, row.result, row.errors = None, ImportRow.Result.REJECTED, {"row": [refused.message]}
    return Counter(row.result for row in batch)


def on_campaign(campaign: str, kind: str) -> QuerySet:
    """The ids of the people of `kind` an import put on `campaign` (the lists' filter; the
    unique (campaign, person) indexes find them)."""
    # An import's kind is the name of the member's field for that person: lead or contact.
    return CampaignMember.objects.filter(campaign=" ".join(campaign.split()), **{f"{kind}__isnull": False}).values(
        kind)


def _tag(record: Import, batch: list[ImportRow]) -> None:
    """Put the batch's people on the import's campaign (once: a person already on it stays
    as they were)."""
    now = timezone.now()
    CampaignMember.objects.bulk_create(
        [CampaignMember(campaign=record.campaign, source_import=record, added_at=now, **{record.kind: row.person})
         for row in batch if getattr(row, "person", None) is not None], ignore_conflicts=True)


def error_rows(record: Import) -> Iterator[list[Any]]:
    """The error file's rows: the rejected rows as they were, with their line and what is
    wrong with each (sdrcrm.exports makes them safe to open in a spreadsheet). Refused once
    the nightly prune has cleared the import's rows."""
    if record.rows_cleared_at:
        raise Refused(cleared_note(record), status=410)
    return _rejected(record)


def cleared_note(record: Import) -> str:
    """What the import's page and its error file say once the nightly prune has cleared its
    rows ("" before)."""
    if not record.rows_cleared_at:
        return ""
    return (f"This import's rows were cleared on {record.rows_cleared_at:%Y-%m-%d} (an import keeps them "
            f"{settings.IMPORT_ROWS_KEPT_DAYS} days after it finishes): its counts stay, the problems and the "
            "error file are gone.")


def _rejected(record: Import) -> Iterator[list[Any]]:
    rows = ImportRow.objects.filter(batch=record, result=ImportRow.Result.REJECTED).order_by("line")
    for row in rows.iterator(chunk_size=2000):
        problems = "; ".join(f"{column}: {' '.join(messages)}" for column, messages in row.errors.items())
        yield [*row.values, row.line, problems]


def clear_old_rows(now: datetime) -> dict[str, int]:
    """The nightly history_prune's part for imports: the rows of an import finished
    IMPORT_ROWS_KEPT_DAYS ago are deleted, one import a transaction (its counts, mapping
    and campaign list stay; `rows_cleared_at` says when); a checked import never run in
    that time is deleted whole. Queued and running imports are left alone."""
    cutoff = now - timedelta(days=settings.IMPORT_ROWS_KEPT_DAYS)
    finished = Import.objects.filter(state=Import.State.FINISHED, finished_at__lt=cutoff,
                                     rows_cleared_at__isnull=True)
    cleared = rows = 0
    for pk in finished.order_by("pk").values_list("pk", flat=True):
        with transaction.atomic():
            rows += ImportRow.objects.filter(batch_id=pk).delete()[0]
            cleared += Import.objects.filter(pk=pk, rows_cleared_at__isnull=True).update(rows_cleared_at=now)
    with transaction.atomic():
        deleted = Import.objects.filter(state=Import.State.CHECKED, created_at__lt=cutoff).delete()[1]
    return {"imports_cleared": cleared, "rows_deleted": rows + deleted.get("leads.ImportRow", 0),
            "checked_deleted": deleted.get("leads.Import", 0)}
