"""`IdempotentMixin` for DRF views: claim the key after authentication, store the
rendered response when the view is done, replay it byte for byte later."""

from __future__ import annotations

from typing import Any

from django.http import HttpResponse
from rest_framework.request import Request
from rest_framework.response import Response

from clipcart_shared.errors import ApplicationError, ErrorCode
from clipcart_shared.idempotency.models import IdempotencyKey
from clipcart_shared.idempotency.services import (
    Replay,
    idempotency_begin,
    idempotency_complete,
    idempotency_release,
    request_fingerprint,
)

HEADER = "Idempotency-Key"
REPLAYED_HEADER = "Idempotent-Replayed"


class _ReplayResponse(Exception):
    def __init__(self, replay: Replay) -> None:
        self.replay = replay


class IdempotentMixin:
    """Accept `Idempotency-Key` on POST; require it when `idempotency_key_required`."""

    idempotency_key_required = False
    _idempotency_record: IdempotencyKey | None = None

    def initial(self, request: Request, *args: Any, **kwargs: Any) -> None:
        super().initial(request, *args, **kwargs)  # type: ignore[misc]
        self._idempotency_record = None
        if request.method != "POST":
            return
        key = request.headers.get(HEADER)
        if key is None:
            if self.idempotency_key_required:
                raise ApplicationError(
                    ErrorCode.IDEMPOTENCY_KEY_REQUIRED,
                    f"This request needs an {HEADER} header.",
                    status=400,
                )
            return
        user = request.user
        scope = str(user.id) if getattr(user, "is_authenticated", False) else "anonymous"
        outcome = idempotency_begin(
            scope=scope,
            key=key,
            method=request.method,
            path=request.path,
            fingerprint=request_fingerprint(
                method=request.method, path=request.path, body=request.body
            ),
        )
        if isinstance(outcome, Replay):
            raise _ReplayResponse(outcome)
        self._idempotency_record = outcome

    def dispatch(self, request: Any, *args: Any, **kwargs: Any) -> Any:
        try:
            return super().dispatch(request, *args, **kwargs)  # type: ignore[misc]
        finally:
            # finalize_response never ran (an error escaped DRF): free the key anyway.
            if self._idempotency_record is not None:
                idempotency_release(record=self._idempotency_record)
                self._idempotency_record = None

    def handle_exception(self, exc: Exception) -> Response | HttpResponse:
        if isinstance(exc, _ReplayResponse):
            replayed = HttpResponse(
                exc.replay.body, status=exc.replay.status, content_type=exc.replay.content_type
            )
            replayed[REPLAYED_HEADER] = "true"
            return replayed
        return super().handle_exception(exc)  # type: ignore[misc]

    def finalize_response(self, request: Request, response: Any, *args: Any, **kwargs: Any) -> Any:
        response = super().finalize_response(request, response, *args, **kwargs)  # type: ignore[misc]
        record = self._idempotency_record
        if record is None:
            return response
        self._idempotency_record = None
        if response.status_code >= 500:
            idempotency_release(record=record)
            return response
        if hasattr(response, "render"):
            response.render()
        idempotency_complete(
            record=record,
            status=response.status_code,
            content_type=response.get("Content-Type", "application/json"),
            body=response.content.decode(),
        )
        return response
