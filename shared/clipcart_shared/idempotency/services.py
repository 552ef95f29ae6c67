"""Begin, finish and replay keyed requests; safe when identical requests race."""

from __future__ import annotations

import hashlib
import json
import logging
from dataclasses import dataclass
from datetime import timedelta

from django.conf import settings
from django.db import IntegrityError, transaction
from django.utils import timezone

from clipcart_shared.errors import ApplicationError, ErrorCode
from clipcart_shared.idempotency.models import IdempotencyKey

logger = logging.getLogger(__name__)

MAX_KEY_LENGTH = 255
# A request that died mid-way (process killed) must not hold its key forever.
STALE_IN_PROGRESS = timedelta(minutes=2)


@dataclass(frozen=True)
class Replay:
    status: int
    content_type: str
    body: str


def request_fingerprint(*, method: str, path: str, body: bytes) -> str:
    """A hash of what was asked; JSON bodies are canonicalised so key order does not matter."""
    try:
        canonical = json.dumps(json.loads(body or b"null"), sort_keys=True, separators=(",", ":"))
        payload = canonical.encode()
    except (ValueError, UnicodeDecodeError):
        payload = body
    return hashlib.sha256(method.encode() + b" " + path.encode() + b"\n" + payload).hexdigest()


def idempotency_key_validate(key: str) -> str:
    if not key or len(key) > MAX_KEY_LENGTH or not key.isprintable():
        raise ApplicationError(
            ErrorCode.IDEMPOTENCY_KEY_INVALID,
            f"Idempotency-Key must be 1 to {MAX_KEY_LENGTH} printable characters.",
            status=400,
        )
    return key


def idempotency_begin(
    *, scope: str, key: str, method: str, path: str, fingerprint: str
) -> IdempotencyKey | Replay:
    """Claim the key for this request, or return the stored response to replay.

    Raises 422 `idempotency_key_reused` for the same key with another request, and
    409 `request_in_progress` while the first request with this key is still running.
    """
    idempotency_key_validate(key)
    now = timezone.now()
    expired_before = now - timedelta(hours=settings.IDEMPOTENCY_KEY_TTL_HOURS)
    try:
        with transaction.atomic():
            return IdempotencyKey.objects.create(
                scope=scope,
                key=key,
                method=method,
                path=path,
                fingerprint=fingerprint,
                status=IdempotencyKey.Status.IN_PROGRESS,
            )
    except IntegrityError:
        pass
    with transaction.atomic():
        record = IdempotencyKey.objects.select_for_update().get(scope=scope, key=key)
        is_abandoned = record.status == IdempotencyKey.Status.IN_PROGRESS and (
            record.created_at < now - STALE_IN_PROGRESS
        )
        if record.created_at < expired_before or is_abandoned:
            # Expired or orphaned: this request takes the key over.
            record.method, record.path, record.fingerprint = method, path, fingerprint
            record.status = IdempotencyKey.Status.IN_PROGRESS
            record.created_at, record.completed_at = now, None
            record.response_status, record.response_body = None, ""
            record.save()
            return record
        if record.fingerprint != fingerprint:
            raise ApplicationError(
                ErrorCode.IDEMPOTENCY_KEY_REUSED,
                "This Idempotency-Key was already used with a different request.",
                status=422,
            )
        if record.status == IdempotencyKey.Status.IN_PROGRESS:
            raise ApplicationError(
                ErrorCode.REQUEST_IN_PROGRESS,
                "A request with this Idempotency-Key is still being processed; retry shortly.",
                status=409,
            )
        assert record.response_status is not None
        return Replay(record.response_status, record.response_content_type, record.response_body)


def idempotency_complete(
    *, record: IdempotencyKey, status: int, content_type: str, body: str
) -> None:
    """Store the response the key's later replays will get."""
    IdempotencyKey.objects.filter(pk=record.pk).update(
        status=IdempotencyKey.Status.COMPLETED,
        response_status=status,
        response_content_type=content_type,
        response_body=body,
        completed_at=timezone.now(),
    )


def idempotency_release(*, record: IdempotencyKey) -> None:
    """Forget the key after a server-side failure, so the client may retry with it."""
    IdempotencyKey.objects.filter(pk=record.pk).delete()


def idempotency_prune() -> int:
    """Delete keys past their retention (API.md promises at least 24 hours)."""
    cutoff = timezone.now() - timedelta(hours=settings.IDEMPOTENCY_KEY_TTL_HOURS)
    deleted, _ = IdempotencyKey.objects.filter(created_at__lt=cutoff).delete()
    return deleted
