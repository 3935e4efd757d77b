"""`@idempotent` for the API's writes that integrations retry: with an `Idempotency-Key`
header the write runs once (sdrcrm/idempotency.py); without one it runs as always."""

from __future__ import annotations

import functools
import json
from collections.abc import Callable
from typing import Any

from django.http.request import RawPostDataException
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework.renderers import JSONRenderer
from rest_framework.request import Request
from rest_framework.response import Response

from sdrcrm import idempotency

HEADER = OpenApiParameter(
    "Idempotency-Key", str, OpenApiParameter.HEADER, required=False,
    description="Any unique string (a UUID) per write: sent again within 24 hours with the same body, the "
                "first answer is replayed (header Idempotent-Replayed: true) and nothing is written twice; "
                "with another body it answers 422.",
)


def idempotent(method: Callable[..., Response]) -> Callable[..., Response]:
    @functools.wraps(method)
    def run(view: Any, request: Request, *args: Any, **kwargs: Any) -> Response:
        # The header from META: request.headers builds a dict of every header, a call per
        # header, 0.3 % of an ingested lead's instructions for this one read.
        key = request.META.get("HTTP_IDEMPOTENCY_KEY")
        if key is None or request.method != "POST":
            return method(view, request, *args, **kwargs)
        try:
            body = request._request.body  # read before the view parses it (then served from memory)
        except RawPostDataException:
            body = json.dumps(request.data, sort_keys=True, default=str).encode()

        def write() -> idempotency.Answer:
            response = method(view, request, *args, **kwargs)
            return idempotency.Answer(response.status_code, json.loads(JSONRenderer().render(response.data)))

        answer = idempotency.run_once(request.user, key, f"{request.method} {request.path}", body, write)
        response = Response(answer.body, status=answer.status)
        if answer.replayed:
            response["Idempotent-Replayed"] = "true"
        return response

    return extend_schema(methods=["POST"], parameters=[HEADER])(run)
