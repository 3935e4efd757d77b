"""Safe retries: a write sent with an `Idempotency-Key` header runs once.

The key's record is inserted in the same transaction as everything the write does, and
the answer is stored with it before the commit. So:
- the same key again (same user, same endpoint, same body) within IDEMPOTENCY_KEY_HOURS
  replays the stored answer and writes nothing;
- a retry sent while the first is still running waits on the key's row, then replays;
- a request cut off before it answered (a killed worker, a lost connection) left nothing
  behind: its transaction rolled back, key included, so the retry runs it afresh;
- the same key with a different body or endpoint is refused (422): it is a client bug;
- a refused write (4xx) stores nothing, so the corrected request may reuse the key.

The `idempotency_keys` job deletes records older than IDEMPOTENCY_KEY_HOURS.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from django.conf import settings
from django.db import IntegrityError, transaction
from django.utils import timezone

from .errors import Refused
from .models import IdempotentRequest, User

MAX_KEY_LENGTH = 255


@dataclass
class Answer:
    status: int
    body: Any
    replayed: bool = False


def run_once(user: User, key: str, endpoint: str, body: bytes, write: Callable[[], Answer]) -> Answer:
    """`write()` (which answers a status and a JSON-ready body) once for this user's key;
    the stored answer for a repeat."""
    if not key or len(key) > MAX_KEY_LENGTH or not key.isprintable():
        raise Refused(f"Idempotency-Key is 1 to {MAX_KEY_LENGTH} printable characters.", field="Idempotency-Key")
    body_hash = hashlib.sha256(body).hexdigest()
    now = timezone.now()
    with transaction.atomic():
        expired = now - timedelta(hours=settings.IDEMPOTENCY_KEY_HOURS)
        IdempotentRequest.objects.filter(user=user, key=key, created_at__lte=expired).delete()
        try:
            with transaction.atomic():
                record = IdempotentRequest.objects.create(user=user, key=key, endpoint=endpoint, body_hash=body_hash,
                                                          status=0, response={}, created_at=now)
        except IntegrityError:
            # Stored (or being written by a twin, whose commit this waited for).
            return _replay(IdempotentRequest.objects.get(user=user, key=key), endpoint, body_hash)
        answer = write()
        if answer.status >= 400:
            transaction.set_rollback(True)  # nothing kept: the corrected request may reuse the key
            return answer
        record.status, record.response = answer.status, answer.body
        record.save(update_fields=["status", "response"])
    return answer


def _replay(record: IdempotentRequest, endpoint: str, body_hash: str) -> Answer:
    if record.endpoint != endpoint or record.body_hash != body_hash:
        raise Refused(f"This Idempotency-Key was used at {record.created_at:%Y-%m-%d %H:%M} UTC for a different "
                      "request; use a new key for a new request.", field="Idempotency-Key", status=422)
    return Answer(record.status, record.response, replayed=True)


def delete_expired(now: datetime) -> dict[str, int]:
    """The `idempotency_keys` job (hourly): keys past IDEMPOTENCY_KEY_HOURS are forgotten,
    a batch per transaction, oldest first."""
    cutoff = now - timedelta(hours=settings.IDEMPOTENCY_KEY_HOURS)
    deleted = 0
    while True:
        ids = list(IdempotentRequest.objects.filter(created_at__lte=cutoff).order_by("created_at")
                   .values_list("id", flat=True)[: settings.JOB_BATCH_SIZE])
        if not ids:
            return {"deleted": deleted}
        deleted += IdempotentRequest.objects.filter(id__in=ids).delete()[0]
