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
    "4XX": (
        "A client error (400 malformed, 401, 403, 404, 409, 413, 414 `uri_too_long`, 422, "
        "429, 431 `request_headers_too_large`): see `code`."
    ),
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


def _response_fields(result: dict[str, Any], response: dict[str, Any]) -> set[str]:
    schema = response.get("content", {}).get("application/json", {}).get("schema", {})
    while "$ref" in schema:
        schema = result["components"]["schemas"][schema["$ref"].rsplit("/", 1)[1]]
    return set(schema.get("properties", {}))


def resource_links(
    result: dict[str, Any], generator: Any, request: Any, public: bool
) -> dict[str, Any]:
    """Link each create (`POST /things/` answering an object with an `id`) to what can be
    done with what it created (`/things/{id}/…`): the new id is that path parameter, and
    the parameters of the create's own path carry over. Clients (and schemathesis's
    stateful run) follow create → read → update → delete from them."""
    paths = result.get("paths", {})
    for path, operations in paths.items():
        create = operations.get("post")
        if not create:
            continue
        for status in ("201", "200"):
            response = create.get("responses", {}).get(status)
            if response and "id" in _response_fields(result, response):
                break
        else:
            continue
        links: dict[str, Any] = {}
        for target, target_operations in paths.items():
            rest = target.removeprefix(path)
            # `/things/{id}/` and `/things/{id}/<action>/`: one parameter more, the new id
            if target == path or rest == target or not rest.startswith("{") or rest.count("{") > 1:
                continue
            created, _, _ = rest.partition("}")
            for method, operation in target_operations.items():
                if method not in _METHODS or "operationId" not in operation:
                    continue
                parameters = {
                    item["name"]: f"$request.path.{item['name']}"
                    for item in operation.get("parameters", [])
                    if item.get("in") == "path" and item["name"] != created[1:]
                }
                parameters[created[1:]] = "$response.body#/id"
                links[operation["operationId"]] = {
                    "operationId": operation["operationId"],
                    "parameters": parameters,
                }
        if links:
            response["links"] = links
    return result
