"""The login form: Django's, refusing integration users (they work through the API)."""

from __future__ import annotations

from typing import Any

from django import forms
from django.contrib.auth.forms import AuthenticationForm

from .models import Role, User


class LoginForm(AuthenticationForm):
    error_messages = {
        **AuthenticationForm.error_messages,
        "invalid_login": "Wrong username or password.",
    }

    def clean(self) -> dict[str, Any]:
        try:
            return super().clean()
        except forms.ValidationError:
            wait = getattr(self.request, "login_retry_after", 0)
            if wait:  # refused before the password was looked at (sdrcrm/auth.py)
                raise forms.ValidationError(
                    f"Too many tries; try again in {wait} second{'' if wait == 1 else 's'}.", code="delayed"
                ) from None
            raise

    def confirm_login_allowed(self, user: User) -> None:
        super().confirm_login_allowed(user)
        if user.role == Role.INTEGRATION:
            raise forms.ValidationError(
                "Integration users work through the API with a token; they cannot sign in to the pages.",
                code="integration",
            )
