"""System checks of the project's own settings."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.core.checks import Error, register

# What the admin's checks (admin.E408–E410, silenced in settings) look for in MIDDLEWARE:
# here they run inside sdrcrm.middleware.BrowserSessionMiddleware, from SESSION_MIDDLEWARE.
SESSION_NEEDS = [
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
]


@register()
def session_middleware(app_configs: Any = None, **kwargs: Any) -> list[Error]:
    """The session, its user and the flash messages run, in that order, for the pages."""
    found = [path for path in getattr(settings, "SESSION_MIDDLEWARE", []) if path in SESSION_NEEDS]
    if "sdrcrm.middleware.BrowserSessionMiddleware" in settings.MIDDLEWARE and found == SESSION_NEEDS:
        return []
    return [Error("MIDDLEWARE must hold sdrcrm.middleware.BrowserSessionMiddleware, and SESSION_MIDDLEWARE "
                  f"{', '.join(SESSION_NEEDS)}, in that order: the pages and the admin need them.",
                  id="sdrcrm.E001")]
