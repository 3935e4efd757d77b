"""Every API error is JSON with a human message (`detail`) and per-field `errors`."""

from __future__ import annotations

from typing import Any

from django.core.exceptions import RequestDataTooBig
from django.core.exceptions import ValidationError as DjangoValidationError
from django.db import IntegrityError
from rest_framework import status
from rest_framework.exceptions import ParseError, ValidationError
from rest_framework.response import Response
from rest_framework.views import exception_handler as drf_exception_handler

from sdrcrm.errors import Refused


def first_message(errors: Any) -> str:
    if isinstance(errors, dict):
        for field, value in errors.items():
            inner = first_message(value)
            return inner if field == "non_field_errors" else f"{field}: {inner}"
    if isinstance(errors, list) and errors:
        return first_message(errors[0])
    return str(errors)


def exception_handler(exc: Exception, context: dict[str, Any]) -> Response | None:
    if isinstance(exc, RequestDataTooBig):  # a body sent without its length (chunked)
        return Response({"detail": "The request body is too large; send a bulk request in smaller batches.",
                         "errors": {}}, status=status.HTTP_413_REQUEST_ENTITY_TOO_LARGE)
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


# The error answers every operation may give, as the schema documents them (a
# drf-spectacular postprocessing hook): clients and schemathesis learn their shape.
ERROR_RESPONSES = {
    "400": "Invalid input: `detail` says what is wrong, `errors` which field.",
    "401": "No credentials, or they are wrong.",
    "403": "Not allowed for your role or this record.",
    "404": "No such record, or not one you may see.",
    "405": "Method not allowed here.",
    "406": "No acceptable representation (JSON is offered).",
    "409": "Conflicts with another change made at the same time; retry.",
    "413": "The request body is larger than the API takes.",
    "415": "Unsupported request media type.",
    "429": "Throttled: retry after the time in the Retry-After header.",
}
ERROR_SCHEMA = {
    "type": "object",
    "properties": {
        "detail": {"type": "string", "description": "what is wrong, in words"},
        "errors": {"type": "object", "description": "per field, its messages (nested for nested input)"},
    },
    "required": ["detail"],
}


def add_error_responses(result: dict[str, Any], generator: Any, request: Any, public: bool) -> dict[str, Any]:
    result.setdefault("components", {}).setdefault("schemas", {})["Error"] = ERROR_SCHEMA
    body = {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}}
    for operations in result.get("paths", {}).values():
        for operation in operations.values():
            for code, description in ERROR_RESPONSES.items():
                response = operation.setdefault("responses", {}).setdefault(code, {"description": description})
                response.setdefault("content", body)  # an operation's own error answer has the same body
    return result
