"""The WSGI application gunicorn serves (README: production).

Before the first request, the URLconf is loaded (and with it every view, serializer and
the API's libraries) and everything the process holds so far is moved out of the cyclic
garbage collector's reach with `gc.freeze()`: those objects live as long as the process,
and each full collection otherwise walked all of them again, about 65 ms once every few
hundred leads ingested (bench/REPORT.md, ninth and tenth sessions)."""

import gc
import os

from django.core.wsgi import get_wsgi_application
from django.urls import get_resolver

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "sdrcrm.settings")
application = get_wsgi_application()
get_resolver().url_patterns  # noqa: B018 - imports the views now, not in the first request
gc.collect()
gc.freeze()
