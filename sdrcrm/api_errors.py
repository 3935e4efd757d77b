"""Every API error is JSON with a human message (`detail`) and per-field `errors`."""

from __future__ import annotations

from typing import Any

from django.core.exceptions import ValidationError as DjangoValidationError
from django.db import IntegrityError
from rest_framework import status
from rest_framework.exceptions import ParseError, ValidationError
from rest_framework.response import Response
from rest_framework.views import exception_handler as drf_exception_handler

from .errors import Refused


def first_message(errors: Any) -> str:
    if isinstance(errors, dict):
        for field, value in errors.items():
            inner = first_message(value)
            return inner if field == "non_field_errors" else f"{field}: {inner}"
    if isinstance(errors, list) and errors:
        return first_message(errors[0])
    return str(errors)


def exception_handler(exc: Exception, context: dict[str, Any]) -> Response | None:
    if isinstance(exc, Refused):
        return Response({"detail": exc.message, "errors": exc.errors}, status=exc.status)
    if isinstance(exc, RecursionError):
        # Python's JSON parser gives up on a deeply nested body ([[[[…) this way; the
        # parsers wrap only ValueError in ParseError.
        exc = ParseError("The request body is nested too deeply.")
    if isinstance(exc, DjangoValidationError):
        exc = ValidationError(exc.message_dict if hasattr(exc, "error_dict") else exc.messages)
    if isinstance(exc, IntegrityError):
        # A unique or check constraint lost a race with another request.
        return Response(
            {"detail": "This change conflicts with another change made at the same time; retry.",
             "errors": {}},
            status=status.HTTP_409_CONFLICT,
        )
    response = drf_exception_handler(exc, context)
    if response is None:
        return None
    if isinstance(exc, ValidationError):
        errors = response.data if isinstance(response.data, dict) else {"non_field_errors": response.data}
        response.data = {"detail": first_message(errors), "errors": errors}
    elif isinstance(response.data, dict) and "errors" not in response.data:
        response.data["errors"] = {}
    return response
