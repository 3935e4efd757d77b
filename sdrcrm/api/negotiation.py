"""DRF's content negotiation, answered at once for the API's usual request.

An integration or script asks for JSON (`Accept: application/json`, or anything), and
DRF's negotiation still parsed the header and matched it against every renderer: 3 % of
an ingest worker's Python under py-spy. Such a request gets the first renderer, JSON, as
DRF itself would choose it; any other request (a browser's `text/html`, `?format=`) goes
through DRF's negotiation unchanged."""

from __future__ import annotations

from typing import Any

from rest_framework.negotiation import DefaultContentNegotiation
from rest_framework.renderers import BaseRenderer
from rest_framework.request import Request

PLAIN_ACCEPTS = frozenset({"", "*/*", "application/json"})


class JsonFirstNegotiation(DefaultContentNegotiation):
    def select_renderer(self, request: Request, renderers: list[BaseRenderer],
                        format_suffix: str | None = None) -> Any:
        first = renderers[0] if renderers else None
        if (first is not None and first.media_type == "application/json" and not format_suffix
                and request.META.get("HTTP_ACCEPT", "") in PLAIN_ACCEPTS
                # No query string, no ?format=: without building request.GET for it.
                and (not request.META.get("QUERY_STRING")
                     or self.settings.URL_FORMAT_OVERRIDE not in request.query_params)):
            return first, first.media_type
        return super().select_renderer(request, renderers, format_suffix)
