"""The import scenario (bench/run.py --scenarios import; issue 17: 100,000 rows, dry run and
real run each ≤ 60 s). Run by run.py as a subprocess with the benchmark's environment:

    python bench/imports.py run --rows 100000

A CSV of new people (unique emails of this run, a tenth on free mail, one row in a hundred
with a problem the dry run must report) is checked through `POST /api/v1/imports/` (in
process: the API's own validation and the check, as a user's upload), then run through
`imports.start` (the benchmark's environment runs Celery tasks eagerly, so the worker's
task runs here: batches of 500 through the bulk ingest, scored and routed). The manager
imports, so the rows without an owner are routed as the API's would be. The run's leads
are deleted afterwards, in batches, so the bench database keeps its size. Prints one JSON
object as its last line.
"""

from __future__ import annotations

import argparse
import csv
import io
import json
import random
import sys
import time
from typing import Any

import seed  # bench/seed.py: setup_django and the bench users' names

HEADER = ["Email", "First name", "Last name", "Title", "Company", "Country", "Employees", "Lead source", "Opted out"]
SOURCES = ["webcast", "gated_content", "conference", "list_import", "newsletter"]
COUNTRIES = ["US", "US", "US", "GB", "DE", "FR", "CA", "AU", "JP", "IN"]


def build_csv(rows: int, stamp: str) -> tuple[bytes, int]:
    """The file, and how many of its rows carry a problem (a bad email or no last name)."""
    rng = random.Random(17)
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(HEADER)
    bad = 0
    for n in range(rows):
        first, last = rng.choice(seed.FIRST_NAMES), rng.choice(seed.LAST_NAMES)
        domain = rng.choice(seed.FREE_DOMAINS) if n % 10 == 0 else f"imp{n % 5000}.example.com"
        email = f"{first}.{last}.{stamp}.{n}@{domain}".lower()
        if n % 100 == 99:
            bad += 1
            email, last = (email.replace("@", " at "), last) if n % 200 == 199 else (email, "")
        writer.writerow([email, first, last, rng.choice(seed.SENIOR_TITLES + seed.OTHER_TITLES),
                         f"Imp {n % 5000}", rng.choice(COUNTRIES), str(rng.choice([20, 200, 2000, 20000])),
                         rng.choice(SOURCES), "yes" if n % 50 == 0 else "no"])
    return out.getvalue().encode(), bad


def run(rows: int) -> dict[str, Any]:
    from django.core.files.uploadedfile import SimpleUploadedFile
    from django.db import connection
    from rest_framework.test import APIClient

    from leads import imports
    from leads.models import Import, Lead
    from sdrcrm.models import User

    manager = User.objects.get(username=seed.MANAGER_USER)
    stamp = f"r{int(time.time())}"
    content, bad = build_csv(rows, stamp)
    client = APIClient()
    client.force_authenticate(manager)
    started = time.perf_counter()
    response = client.post("/api/v1/imports/", {"file": SimpleUploadedFile("bench.csv", content), "dry_run": "true"},
                           format="multipart")
    check_seconds = time.perf_counter() - started
    if response.status_code != 201:
        return {"error": f"imports/ answered {response.status_code}: {response.content[:300]!r}"}
    record = Import.objects.get(pk=response.json()["record"]["id"])
    result: dict[str, Any] = {"rows": rows, "bytes": len(content), "bad_rows": bad,
                              "dry_run_seconds": round(check_seconds, 1), "checked_good": record.good,
                              "checked_rejected": record.rows - record.good}
    started = time.perf_counter()
    record = imports.start(record)
    run_seconds = time.perf_counter() - started
    result.update({"run_seconds": round(run_seconds, 1), "created": record.created, "updated": record.updated,
                   "unchanged": record.unchanged, "rejected": record.rejected,
                   "rows_per_second": round(record.rows_done / run_seconds, 1) if run_seconds else None})
    started = time.perf_counter()
    ids = list(Lead.all_objects.filter(email__contains=f".{stamp}.").values_list("pk", flat=True))
    for at in range(0, len(ids), 5_000):
        Lead.all_objects.filter(pk__in=ids[at:at + 5_000]).delete()
    record.delete()
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("VACUUM ANALYZE leads_lead")
    result["cleanup_seconds"] = round(time.perf_counter() - started, 1)
    return result


def main(argv: list[str]) -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("command", choices=["run"])
    parser.add_argument("--rows", type=int, default=100_000)
    args = parser.parse_args(argv)
    seed.setup_django()
    print(json.dumps(run(args.rows)))


if __name__ == "__main__":
    main(sys.argv[1:])
