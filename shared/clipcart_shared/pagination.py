"""Cursor pagination as API.md says: `{"results": [...], "next": url | null}`, `?limit=` ≤ 100."""

from __future__ import annotations

from typing import Any

from rest_framework.exceptions import NotFound, ValidationError
from rest_framework.pagination import Cursor
from rest_framework.pagination import CursorPagination as _DRFCursorPagination
from rest_framework.response import Response


class CursorPagination(_DRFCursorPagination):
    """Newest first by default; views name their own unique-enough `ordering`."""

    page_size = 20
    max_page_size = 100
    page_size_query_param = "limit"
    ordering = ("-created_at", "-id")

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

    def get_paginated_response_schema(self, schema: dict[str, Any]) -> dict[str, Any]:
        return {
            "type": "object",
            "required": ["results", "next"],
            "properties": {
                "results": schema,
                "next": {"type": "string", "format": "uri", "nullable": True},
            },
        }
