from __future__ import annotations

from datetime import UTC
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.utils import timezone
from django.utils.dateparse import parse_datetime

from sdrcrm.errors import Refused
from sdrcrm.jobs import JOBS, run_job


class Command(BaseCommand):
    help = "Run a periodic job now, with an explicit clock: run_job <name> [--now ISO-8601]."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("name", choices=sorted(JOBS))
        parser.add_argument("--now", help="the job's clock, e.g. 2026-12-01T03:00:00Z (default: now)")

    def handle(self, *args: Any, name: str, now: str | None, **options: Any) -> None:
        clock = timezone.now()
        if now:
            parsed = parse_datetime(now)
            if parsed is None:
                raise CommandError(f"--now {now!r} is not an ISO-8601 date and time.")
            clock = parsed if timezone.is_aware(parsed) else timezone.make_aware(parsed, UTC)
        try:
            run = run_job(name, clock)
        except Refused as exc:
            raise CommandError(exc.message) from None
        self.stdout.write(f"{run.name} slot {run.slot.isoformat()} {run.state} {run.counts}")
