"""One error format for every service: RFC 9457 problem+json with a stable `code`.

A domain error is an `ApplicationError` naming a code from its service's enum. The DRF
exception handler below renders it, DRF's own exceptions and anything unexpected in
the same shape; no stack trace or internal message ever reaches a client.
"""

from __future__ import annotations

import enum
import logging
import math
from http import HTTPStatus
from typing import Any

from django.core.exceptions import PermissionDenied, RequestDataTooBig
from django.http import Http404, HttpRequest, JsonResponse
from rest_framework import exceptions as drf_exceptions
from rest_framework import status as http_status
from rest_framework.response import Response

logger = logging.getLogger(__name__)

PROBLEM_CONTENT_TYPE = "application/problem+json"
TYPE_BASE = "https://docs.clipcart.dev/problems/"


class ErrorCode(enum.StrEnum):
    """Codes shared by every service. Each service adds its own enum of domain codes."""

    VALIDATION_ERROR = "validation_error"
    MALFORMED_REQUEST = "malformed_request"
    NOT_AUTHENTICATED = "not_authenticated"
    PERMISSION_DENIED = "permission_denied"
    NOT_FOUND = "not_found"
    METHOD_NOT_ALLOWED = "method_not_allowed"
    NOT_ACCEPTABLE = "not_acceptable"
    UNSUPPORTED_MEDIA_TYPE = "unsupported_media_type"
    REQUEST_TOO_LARGE = "request_too_large"
    URI_TOO_LONG = "uri_too_long"
    REQUEST_HEADERS_TOO_LARGE = "request_headers_too_large"
    THROTTLED = "throttled"
    IDEMPOTENCY_KEY_REUSED = "idempotency_key_reused"
    IDEMPOTENCY_KEY_INVALID = "idempotency_key_invalid"
    IDEMPOTENCY_KEY_REQUIRED = "idempotency_key_required"
    REQUEST_IN_PROGRESS = "request_in_progress"
    DEPENDENCY_UNAVAILABLE = "dependency_unavailable"
    INTERNAL_ERROR = "internal_error"


class ApplicationError(Exception):
    """A failure the client can act on: it carries an HTTP status and a stable code."""

    def __init__(
        self,
        code: enum.Enum | str,
        detail: str,
        *,
        status: int = http_status.HTTP_422_UNPROCESSABLE_ENTITY,
        errors: list[dict[str, Any]] | None = None,
        extra: dict[str, Any] | None = None,
    ) -> None:
        super().__init__(detail)
        self.code = code.value if isinstance(code, enum.Enum) else code
        self.detail = detail
        self.status = status
        self.errors = errors or []
        self.extra = extra or {}


def problem(
    *,
    status: int,
    code: str,
    detail: str,
    errors: list[dict[str, Any]] | None = None,
    extra: dict[str, Any] | None = None,
) -> dict[str, Any]:
    """The problem+json body."""
    body: dict[str, Any] = {
        "type": TYPE_BASE + code,
        "title": HTTPStatus(status).phrase,
        "status": status,
        "code": code,
        "detail": detail,
    }
    if errors:
        body["errors"] = errors
    if extra:
        # Members of its own only: the problem's type, status, code… are never overwritten.
        body.update({key: value for key, value in extra.items() if key not in body})
    return body


def _field_errors(detail: Any, prefix: str = "") -> list[dict[str, Any]]:
    """Flatten DRF's nested error detail into `[{field, code, message}]` with dotted paths."""
    found: list[dict[str, Any]] = []
    if isinstance(detail, dict):
        for key, value in detail.items():
            if isinstance(key, int):  # ListField reports items by index
                path = f"{prefix}[{key}]"
            else:
                name = "" if key == "non_field_errors" else str(key)
                path = f"{prefix}.{name}" if prefix and name else (name or prefix)
            found.extend(_field_errors(value, path))
    elif isinstance(detail, list):
        for index, value in enumerate(detail):
            if isinstance(value, dict | list):
                found.extend(_field_errors(value, f"{prefix}[{index}]"))
            else:
                found.extend(_field_errors(value, prefix))
    elif detail is not None:
        code = getattr(detail, "code", None) or "invalid"
        found.append({"field": prefix or None, "code": str(code), "message": str(detail)})
    return found


_DRF_CODES: dict[type[Exception], ErrorCode] = {
    drf_exceptions.ParseError: ErrorCode.MALFORMED_REQUEST,
    drf_exceptions.NotAuthenticated: ErrorCode.NOT_AUTHENTICATED,
    drf_exceptions.AuthenticationFailed: ErrorCode.NOT_AUTHENTICATED,
    drf_exceptions.PermissionDenied: ErrorCode.PERMISSION_DENIED,
    drf_exceptions.NotFound: ErrorCode.NOT_FOUND,
    drf_exceptions.MethodNotAllowed: ErrorCode.METHOD_NOT_ALLOWED,
    drf_exceptions.NotAcceptable: ErrorCode.NOT_ACCEPTABLE,
    drf_exceptions.UnsupportedMediaType: ErrorCode.UNSUPPORTED_MEDIA_TYPE,
    drf_exceptions.Throttled: ErrorCode.THROTTLED,
}


def _problem_response(body: dict[str, Any], headers: dict[str, str] | None = None) -> Response:
    response = Response(body, status=body["status"], headers=headers)
    response.content_type = PROBLEM_CONTENT_TYPE
    return response


def exception_handler(exc: Exception, context: dict[str, Any]) -> Response:
    """DRF `EXCEPTION_HANDLER`: every error, expected or not, as problem+json."""
    if isinstance(exc, ApplicationError):
        return _problem_response(
            problem(
                status=exc.status,
                code=exc.code,
                detail=exc.detail,
                errors=exc.errors,
                extra=exc.extra,
            )
        )
    if isinstance(exc, RequestDataTooBig):
        return _problem_response(
            problem(
                status=413,
                code=ErrorCode.REQUEST_TOO_LARGE,
                detail="The request body is too large.",
            )
        )
    if isinstance(exc, Http404):
        exc = drf_exceptions.NotFound()
    elif isinstance(exc, PermissionDenied):
        exc = drf_exceptions.PermissionDenied()

    if isinstance(exc, drf_exceptions.ValidationError):
        return _problem_response(
            problem(
                status=400,
                code=ErrorCode.VALIDATION_ERROR,
                detail="The request has invalid fields.",
                errors=_field_errors(exc.detail),
            )
        )
    if isinstance(exc, drf_exceptions.APIException):
        code = next(
            (value for kind, value in _DRF_CODES.items() if isinstance(exc, kind)),
            ErrorCode.INTERNAL_ERROR if exc.status_code >= 500 else ErrorCode.VALIDATION_ERROR,
        )
        headers: dict[str, str] = {}
        if isinstance(exc, drf_exceptions.NotAuthenticated | drf_exceptions.AuthenticationFailed):
            # APIView.handle_exception put the first authenticator's challenge here.
            authenticate_header = getattr(exc, "auth_header", None)
            if authenticate_header:
                headers["WWW-Authenticate"] = authenticate_header
        if isinstance(exc, drf_exceptions.Throttled) and exc.wait is not None:
            headers["Retry-After"] = str(math.ceil(exc.wait))
        return _problem_response(
            problem(status=exc.status_code, code=code, detail=str(exc.detail)), headers
        )

    # Anything else is a bug: log it with the stack, show the client nothing of it.
    logger.exception("Unhandled error in %s", type(context.get("view")).__name__)
    return _problem_response(
        problem(
            status=500,
            code=ErrorCode.INTERNAL_ERROR,
            detail="Something went wrong on our side; it has been logged.",
        )
    )


def _json_problem(status: int, code: str, detail: str) -> JsonResponse:
    return JsonResponse(
        problem(status=status, code=code, detail=detail),
        status=status,
        content_type=PROBLEM_CONTENT_TYPE,
    )


def not_found(request: HttpRequest, exception: Exception | None = None) -> JsonResponse:
    """`handler404`: Django's own 404s (unknown URLs) in the same format."""
    return _json_problem(404, ErrorCode.NOT_FOUND, "Nothing is here.")


def server_error(request: HttpRequest) -> JsonResponse:
    """`handler500`: the last net under non-DRF views; says nothing of the cause."""
    return _json_problem(500, ErrorCode.INTERNAL_ERROR, "Something went wrong on our side.")


def bad_request(request: HttpRequest, exception: Exception | None = None) -> JsonResponse:
    """`handler400`: e.g. a disallowed Host header or a request body over the size limit."""
    return _json_problem(400, ErrorCode.MALFORMED_REQUEST, "The request could not be read.")


def permission_denied(request: HttpRequest, exception: Exception | None = None) -> JsonResponse:
    """`handler403`."""
    return _json_problem(403, ErrorCode.PERMISSION_DENIED, "You may not do this.")
