"""The WSGI application gunicorn serves loads its views before the first request and takes
what it holds then out of the cyclic garbage collector's reach (sdrcrm/wsgi.py)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
PROBE = ("import gc, sys; import sdrcrm.wsgi; "
         "print(gc.get_freeze_count(), 'leads.api.activities' in sys.modules, len(gc.get_objects()))")


def test_the_app_is_frozen_with_its_views_loaded_before_the_first_request():
    env = {**os.environ, "DJANGO_SETTINGS_MODULE": "sdrcrm.settings"}
    frozen, views_loaded, tracked = subprocess.run(
        [sys.executable, "-c", PROBE], cwd=ROOT, env=env, check=True, capture_output=True, text=True,
        timeout=120).stdout.split()
    assert views_loaded == "True"  # the URLconf's views were imported at startup
    assert int(frozen) > 50_000  # Django, DRF and the app's modules
    assert int(tracked) < int(frozen) // 10  # next to nothing left for a full collection to walk
