"""gunicorn.conf.py: the workers production's gunicorn runs, as gunicorn itself reads the
file from the repository's root (the Dockerfile's command and the benchmark rely on it)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def resolved(**env: str) -> dict[str, str]:
    """gunicorn's settings for `gunicorn sdrcrm.wsgi` run from the root, with `env` set."""
    environ = {key: value for key, value in os.environ.items() if key != "WEB_CONCURRENCY"} | env
    printed = subprocess.run([sys.executable, "-m", "gunicorn", "--print-config", "sdrcrm.wsgi"], cwd=ROOT,
                             env=environ, capture_output=True, text=True, check=True, timeout=60).stdout
    return {name.strip(): value.strip() for name, _, value in
            (line.partition(" = ") for line in printed.splitlines()) if _}


def test_one_worker_per_core_and_the_bulk_timeout_by_default():
    settings = resolved()
    assert settings["config"] == "./gunicorn.conf.py"
    assert int(settings["workers"]) == len(os.sched_getaffinity(0))
    assert int(settings["timeout"]) == 120


def test_web_concurrency_sets_the_workers():
    assert int(resolved(WEB_CONCURRENCY="5")["workers"]) == 5
