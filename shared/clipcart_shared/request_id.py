"""The id of the request being served, carried into logs and outgoing service calls."""

from __future__ import annotations

import re
import uuid
from collections.abc import Callable
from contextvars import ContextVar

from django.http import HttpRequest, HttpResponse

HEADER = "X-Request-ID"
_META_KEY = "HTTP_X_REQUEST_ID"
# A caller may pass its own id; accept only something that cannot smuggle text into logs.
_ACCEPTED = re.compile(r"^[A-Za-z0-9._:-]{1,128}$")

_current: ContextVar[str | None] = ContextVar("request_id", default=None)


def get_request_id() -> str | None:
    """Return the id of the request being served in this context, if any."""
    return _current.get()


def set_request_id(value: str | None) -> None:
    """Bind a request id to this context (used by the middleware and by Celery tasks)."""
    _current.set(value)


class RequestIdMiddleware:
    """Take the caller's `X-Request-ID` (or mint one), expose it to logs, echo it back."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        incoming = request.META.get(_META_KEY, "")
        request_id = incoming if _ACCEPTED.match(incoming) else uuid.uuid4().hex
        token = _current.set(request_id)
        try:
            response = self.get_response(request)
        finally:
            _current.reset(token)
        response[HEADER] = request_id
        return response
