"""Bodies the lead API must refuse, each with the field its error names: the API tests send
them (test_api_bad_input.py) and the bulk item validator must refuse them alike
(test_bulk_validation.py)."""

from __future__ import annotations

from datetime import timedelta

from django.utils import timezone

from leads.models import InitialSource

MISSING = object()  # a key left out of the body
NEW_LEAD = {"email": "new@acme.com", "last_name": "Newman", "initial_source": InitialSource.WEBCAST}

BAD_NEW_LEADS = {
    "missing email": ({**NEW_LEAD, "email": None}, "email"),
    "no email": ({"last_name": "Newman", "initial_source": InitialSource.WEBCAST}, "email"),
    "not an email": ({**NEW_LEAD, "email": "not-an-email"}, "email"),
    "email with NUL": ({**NEW_LEAD, "email": "new\x00@acme.com"}, "email"),
    "no last name": ({"email": "new@acme.com", "initial_source": InitialSource.WEBCAST}, "last_name"),
    "blank last name": ({**NEW_LEAD, "last_name": "   "}, "last_name"),
    "no initial source": ({"email": "new@acme.com", "last_name": "Newman"}, "initial_source"),
    "unknown initial source": ({**NEW_LEAD, "initial_source": "unknown"}, "initial_source"),
    "negative employees": ({**NEW_LEAD, "employee_count": -1}, "employee_count"),
    "10**12 employees": ({**NEW_LEAD, "employee_count": 10**12}, "employee_count"),
    "employees as words": ({**NEW_LEAD, "employee_count": "many"}, "employee_count"),
    "employees as a fraction": ({**NEW_LEAD, "employee_count": 1.5}, "employee_count"),
    "owner as words": ({**NEW_LEAD, "owner": "abc"}, "owner"),
    "unknown owner": ({**NEW_LEAD, "owner": 999999}, "owner"),
    "owner beyond bigint": ({**NEW_LEAD, "owner": 10**30}, "owner"),
    "unknown queue": ({**NEW_LEAD, "queue": 999999}, "queue"),
    "500-char last name": ({**NEW_LEAD, "last_name": "x" * 500}, "last_name"),
    "NUL in last name": ({**NEW_LEAD, "last_name": "New\x00man"}, "last_name"),
    "lone surrogate in last name": ({**NEW_LEAD, "last_name": "\ud800"}, "last_name"),
    "NUL in title": ({**NEW_LEAD, "title": "CTO\x00"}, "title"),
    "name as an object": ({**NEW_LEAD, "first_name": {"first": "New"}}, "first_name"),
    "unknown country": ({**NEW_LEAD, "country": "XX"}, "country"),
    "three-letter country": ({**NEW_LEAD, "country": "USA"}, "country"),
    "NUL as country": ({**NEW_LEAD, "country": "\x00"}, "country"),
    "public sector as words": ({**NEW_LEAD, "public_sector": "maybe"}, "public_sector"),
}

# Fields of an activity body (on top of its lead and a good type) and the field blamed.
BAD_ACTIVITIES = {
    "unknown type": ({"type": "telepathy"}, "type"),
    "no type": ({"type": MISSING}, "type"),
    "null type": ({"type": None}, "type"),
    "details a string": ({"details": "hot lead"}, "details"),
    "details a list": ({"details": ["hot", "lead"]}, "details"),
    "details null": ({"details": None}, "details"),
    "NUL in details": ({"details": {"note": "a\x00b"}}, "details"),
    "NUL in a details key": ({"details": {"a\x00b": 1}}, "details"),
    "lone surrogate in details": ({"details": {"note": "\ud800"}}, "details"),
    "details too large": ({"details": {"note": "x" * 20_000}}, "details"),
    "garbage occurred_at": ({"occurred_at": "yesterday-ish"}, "occurred_at"),
    "occurred_at in year 9999": ({"occurred_at": "9999-12-31T23:59:59Z"}, "occurred_at"),
    "occurred_at in two days": ({"occurred_at": (timezone.now() + timedelta(days=2)).isoformat()}, "occurred_at"),
    "occurred_at before year 1 in UTC": ({"occurred_at": "0001-01-01T00:00:00+05:00"}, "occurred_at"),
    "51-char source system": ({"source_system": "x" * 51}, "source_system"),
    "NUL in source system": ({"source_system": "web\x00form"}, "source_system"),
}
