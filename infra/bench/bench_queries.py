"""Bench only: a request sent with the header `X-Bench-Count-Queries` is answered with
`X-Bench-Queries`, the number of SQL statements it ran (every other request passes by
untouched, so the measured rates do not pay for it)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from django.db import connection
from django.http import HttpRequest, HttpResponse


class QueryCountMiddleware:
    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        if "HTTP_X_BENCH_COUNT_QUERIES" not in request.META:
            return self.get_response(request)
        statements = 0

        def counting(execute: Callable[..., Any], *arguments: Any) -> Any:
            nonlocal statements
            statements += 1
            return execute(*arguments)

        with connection.execute_wrapper(counting):
            response = self.get_response(request)
        response["X-Bench-Queries"] = str(statements)
        return response
