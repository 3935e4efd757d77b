"""gunicorn's settings in production: `gunicorn sdrcrm.wsgi` run from the repository's root
reads this file (the Dockerfile's command does, and so does the benchmark). A flag on the
command line overrides a setting here."""

import os

# One sync worker per CPU core unless WEB_CONCURRENCY says otherwise. On 2 cores with
# PostgreSQL on the same machine, the benchmark's ingest (8 clients, bench/REPORT.md) spent
# 14 % less app CPU and 10 % less PostgreSQL CPU a lead with 2 workers than with 4, at the
# same leads a second: more processes than cores only take turns on them, and each turn
# costs a context switch and the caches the last one filled. With PostgreSQL on another
# machine a worker waits longer on each statement, and more workers than cores may serve
# more: set WEB_CONCURRENCY.
workers = int(os.environ.get("WEB_CONCURRENCY") or len(os.sched_getaffinity(0)))
# A 1,000-lead bulk request takes seconds; the default 30 s would kill a worker mid-batch on
# a busy machine.
timeout = 120
