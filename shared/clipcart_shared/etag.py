"""Conditional GETs: an ETag over the rendered body, and 304 when the client has it."""

from __future__ import annotations

from typing import Any

from django.http import HttpResponse
from rest_framework.renderers import JSONRenderer
from rest_framework.request import Request

from clipcart_shared.pages import page_etag, page_response


def etag_response(request: Request, data: Any) -> HttpResponse:
    """Render `data` once, tag it, and answer 304 (no body) when `If-None-Match` names it.

    Feeds change with every new video or stock change, so a hash of what would be sent is
    the only validator that is always right."""
    return etag_json_response(request, JSONRenderer().render(data))


def etag_json_response(request: Request, content: bytes) -> HttpResponse:
    """`etag_response` for a JSON body already rendered (e.g. written by PostgreSQL)."""
    return page_response(request, content, page_etag(content))
