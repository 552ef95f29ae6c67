"""What every service's OpenAPI schema says about errors.

Views describe their successful answers with `@extend_schema`; the errors are the same
everywhere (`clipcart_shared.errors`): any 4xx and a 503 (a dependency is down) come as
`application/problem+json` with a stable `code`. This drf-spectacular postprocessing hook
adds those answers to every operation, so the schema says what the service really sends
and clients (and schemathesis) can check error bodies too.
"""

from __future__ import annotations

from typing import Any

from drf_spectacular import openapi

from clipcart_shared.errors import PROBLEM_CONTENT_TYPE
from clipcart_shared.throttling.throttles import throttled_methods

PROBLEM_SCHEMA: dict[str, Any] = {
    "type": "object",
    "description": "RFC 9457 problem details with a stable `code`.",
    "required": ["type", "title", "status", "code", "detail"],
    "properties": {
        "type": {"type": "string", "format": "uri"},
        "title": {"type": "string"},
        "status": {"type": "integer"},
        "code": {"type": "string"},
        "detail": {"type": "string"},
        "errors": {
            "type": "array",
            "items": {
                "type": "object",
                "required": ["field", "code", "message"],
                "properties": {
                    # null when the error is about the whole body, not one field
                    "field": {"type": "string", "nullable": True},
                    "code": {"type": "string"},
                    "message": {"type": "string"},
                },
            },
        },
    },
}

_PROBLEM_REFERENCE = {"$ref": "#/components/schemas/Problem"}
ERROR_RESPONSES = {
    "4XX": "A client error (400 malformed, 401, 403, 404, 409, 413, 422, 429): see `code`.",
    "503": "A dependency (database, broker, another service) is unavailable.",
}
THROTTLED_RESPONSE: dict[str, Any] = {
    "description": "Too many requests from this user or address (`throttled`); try again "
    "after `Retry-After` seconds.",
    "headers": {
        "Retry-After": {
            "description": "Seconds to wait before the next request is counted.",
            "schema": {"type": "integer", "minimum": 0},
        }
    },
    "content": {PROBLEM_CONTENT_TYPE: {"schema": _PROBLEM_REFERENCE}},
}
_METHODS = {"get", "put", "post", "patch", "delete", "head", "options", "trace"}


def problem_responses(
    result: dict[str, Any], generator: Any, request: Any, public: bool
) -> dict[str, Any]:
    """Add the `Problem` component and the error answers to every operation."""
    result.setdefault("components", {}).setdefault("schemas", {})["Problem"] = PROBLEM_SCHEMA
    for operations in result.get("paths", {}).values():
        for method, operation in operations.items():
            if method not in _METHODS:
                continue
            responses = operation.setdefault("responses", {})
            for status, description in ERROR_RESPONSES.items():
                responses.setdefault(
                    status,
                    {
                        "description": description,
                        "content": {PROBLEM_CONTENT_TYPE: {"schema": _PROBLEM_REFERENCE}},
                    },
                )
    return result


class AutoSchema(openapi.AutoSchema):
    """drf-spectacular's, plus the 429 of every operation a throttle counts."""

    def get_operation(self, *args: Any, **kwargs: Any) -> dict[str, Any] | None:
        operation: dict[str, Any] | None = super().get_operation(*args, **kwargs)
        if operation is not None and self.method in throttled_methods(self.view):
            operation.setdefault("responses", {})["429"] = THROTTLED_RESPONSE
        return operation
