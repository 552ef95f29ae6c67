"""Cursor pagination as API.md says: `{"results": [...], "next": url | null}`, `?limit=` 1 to
100. A `limit` that is not a whole number in that range is a 400 naming it (DRF's own
pagination would fall back to the default page size)."""

from __future__ import annotations

from typing import Any

from drf_spectacular.utils import OpenApiParameter
from rest_framework.exceptions import NotFound, ValidationError
from rest_framework.pagination import Cursor
from rest_framework.pagination import CursorPagination as _DRFCursorPagination
from rest_framework.response import Response

MAX_LIMIT = 100
DEFAULT_LIMIT = 20


def limit_schema() -> dict[str, Any]:
    """What the schema says of `limit`: what `CursorPagination.get_page_size` takes."""
    return {"type": "integer", "minimum": 1, "maximum": MAX_LIMIT}


def limit_parameter(*, default: int = DEFAULT_LIMIT) -> OpenApiParameter:
    """`limit` for a view that declares its parameters itself."""
    return OpenApiParameter(
        "limit", limit_schema(), description=f"Page size, default {default}, at most {MAX_LIMIT}."
    )


class CursorPagination(_DRFCursorPagination):
    """Newest first by default; views name their own unique-enough `ordering`."""

    page_size = DEFAULT_LIMIT
    max_page_size = MAX_LIMIT
    page_size_query_param = "limit"
    ordering = ("-created_at", "-id")

    def get_page_size(self, request: Any) -> int:
        values = request.query_params.getlist(self.page_size_query_param)
        if not values:
            return self.page_size
        limit = values[0]
        # int() would also take " 5", "+5" or other scripts' digits; the schema says ASCII.
        if len(values) > 1 or not (limit.isascii() and limit.isdigit()):
            raise ValidationError({self.page_size_query_param: ["A whole number, given once."]})
        if not 1 <= int(limit) <= self.max_page_size:
            raise ValidationError(
                {self.page_size_query_param: [f"From 1 to {self.max_page_size}."]}
            )
        return int(limit)

    def decode_cursor(self, request: Any) -> Cursor | None:
        # DRF answers a tampered cursor with 404; it is a bad parameter, so 400.
        try:
            return super().decode_cursor(request)
        except NotFound as error:
            raise ValidationError(
                {self.cursor_query_param: ["This cursor is not valid."]}
            ) from error

    def get_paginated_response(self, data: Any) -> Response:
        return Response({"results": data, "next": self.get_next_link()})

    def get_schema_operation_parameters(self, view: Any) -> list[dict[str, Any]]:
        return [
            {
                "name": self.cursor_query_param,
                "required": False,
                "in": "query",
                "description": "From the previous page's `next`.",
                "schema": {"type": "string"},
            },
            {
                "name": self.page_size_query_param,
                "required": False,
                "in": "query",
                "description": f"Page size, default {self.page_size}, at most {MAX_LIMIT}.",
                "schema": limit_schema(),
            },
        ]

    def get_paginated_response_schema(self, schema: dict[str, Any]) -> dict[str, Any]:
        return {
            "type": "object",
            "required": ["results", "next"],
            "properties": {
                "results": schema,
                "next": {"type": "string", "format": "uri", "nullable": True},
            },
        }
