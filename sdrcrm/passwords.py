"""The password-reset flow: Django's own views (a link by email, valid for
PASSWORD_RESET_TIMEOUT, that works once), with the request throttled per client address so
the form cannot be used to flood someone's mailbox. The answer is the same whether or not
an account has the address. Setting the new password revokes the user's API tokens
(sdrcrm/authentication.py)."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.contrib import messages
from django.contrib.auth import views as auth_views
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect

from .auth import client_address
from .throttling import hit


class PasswordResetView(auth_views.PasswordResetView):
    def post(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        if hit(f"password-reset:{client_address(request)}", settings.PASSWORD_RESET_RATE) is not None:
            messages.error(request, "Too many reset requests from here; try again in a few minutes.")
            return redirect("password_reset")
        return super().post(request, *args, **kwargs)
