"""Account pages (issue 5)."""

from __future__ import annotations

from django.urls import URLPattern

urlpatterns: list[URLPattern] = []
