"""Conditional GETs: an ETag over the rendered body, and 304 when the client has it."""

from __future__ import annotations

import hashlib
from typing import Any

from django.http import HttpResponse
from django.utils.http import parse_etags
from rest_framework.renderers import JSONRenderer
from rest_framework.request import Request


def etag_response(request: Request, data: Any) -> HttpResponse:
    """Render `data` once, tag it, and answer 304 (no body) when `If-None-Match` names it.

    Feeds change with every new video or stock change, so a hash of what would be sent is
    the only validator that is always right."""
    return etag_json_response(request, JSONRenderer().render(data))


def etag_json_response(request: Request, content: bytes) -> HttpResponse:
    """`etag_response` for a JSON body already rendered (e.g. written by PostgreSQL)."""
    etag = f'"{hashlib.blake2b(content, digest_size=16).hexdigest()}"'
    if_none_match = request.headers.get("If-None-Match", "")
    if etag in parse_etags(if_none_match) or if_none_match == "*":
        response = HttpResponse(status=304)
    else:
        response = HttpResponse(content, content_type="application/json")
    response["ETag"] = etag
    # The body depends on who asks (drafts, personal feeds): caches must key on the token.
    response["Vary"] = "Authorization"
    response["Cache-Control"] = "private, no-cache"
    return response
