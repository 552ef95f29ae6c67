"""Begin, finish and replay keyed requests; safe when identical requests race."""

from __future__ import annotations

import hashlib
import json
import logging
import time
from dataclasses import dataclass
from datetime import timedelta

from django.conf import settings
from django.db import connection
from django.utils import timezone

from clipcart_shared.errors import ApplicationError, ErrorCode
from clipcart_shared.idempotency.models import IdempotencyKey

logger = logging.getLogger(__name__)

MAX_KEY_LENGTH = 255
# How long a request waits for another one with the same key to finish.
LOCK_WAIT = timedelta(seconds=30)


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


def _lock_key(scope: str, key: str) -> int:
    digest = hashlib.sha256(f"{scope}\n{key}".encode()).digest()
    return int.from_bytes(digest[:8], "big", signed=True)


def _advisory_lock(lock_key: int) -> bool:
    """Take the key's session-level advisory lock, waiting up to `LOCK_WAIT`. A process
    that dies drops its connection and so its lock: no key stays locked forever."""
    deadline = time.monotonic() + LOCK_WAIT.total_seconds()
    with connection.cursor() as cursor:
        while True:
            cursor.execute("SELECT pg_try_advisory_lock(%s)", [lock_key])
            if cursor.fetchone()[0]:
                return True
            if time.monotonic() > deadline:
                return False
            time.sleep(0.02)


def _advisory_unlock(lock_key: int) -> None:
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_advisory_unlock(%s)", [lock_key])


def idempotency_begin(
    *, scope: str, key: str, method: str, path: str, fingerprint: str
) -> IdempotencyKey | Replay:
    """Claim the key for this request, or return the stored response to replay.

    Requests with the same key run one at a time: a second one waits for the first to
    finish, then gets its response (byte for byte). Raises 422 `idempotency_key_reused`
    for the same key with another request, and 409 `request_in_progress` only when the
    first request runs longer than `LOCK_WAIT`.
    """
    idempotency_key_validate(key)
    lock_key = _lock_key(scope, key)
    if not _advisory_lock(lock_key):
        raise ApplicationError(
            ErrorCode.REQUEST_IN_PROGRESS,
            "A request with this Idempotency-Key is still being processed; retry shortly.",
            status=409,
        )
    try:
        record = _claim_or_replay(
            scope=scope, key=key, method=method, path=path, fingerprint=fingerprint
        )
    except BaseException:
        _advisory_unlock(lock_key)
        raise
    if isinstance(record, Replay):
        _advisory_unlock(lock_key)
    return record


def _claim_or_replay(
    *, scope: str, key: str, method: str, path: str, fingerprint: str
) -> IdempotencyKey | Replay:
    # Holding the key's lock: nobody else is working on this key right now.
    now = timezone.now()
    record = IdempotencyKey.objects.filter(scope=scope, key=key).first()
    expired_before = now - timedelta(hours=settings.IDEMPOTENCY_KEY_TTL_HOURS)
    is_live = (
        record is not None
        and record.status == IdempotencyKey.Status.COMPLETED
        and record.created_at >= expired_before
    )
    if is_live:
        assert record is not None and record.response_status is not None
        if record.fingerprint != fingerprint:
            raise ApplicationError(
                ErrorCode.IDEMPOTENCY_KEY_REUSED,
                "This Idempotency-Key was already used with a different request.",
                status=422,
            )
        return Replay(record.response_status, record.response_content_type, record.response_body)
    # New, expired, or left in progress by a process that died (we hold its lock now).
    IdempotencyKey.objects.filter(scope=scope, key=key).delete()
    return IdempotencyKey.objects.create(
        scope=scope,
        key=key,
        method=method,
        path=path,
        fingerprint=fingerprint,
        status=IdempotencyKey.Status.IN_PROGRESS,
    )


def idempotency_complete(
    *, record: IdempotencyKey, status: int, content_type: str, body: str
) -> None:
    """Store the response the key's later replays will get, and let them in."""
    try:
        IdempotencyKey.objects.filter(pk=record.pk).update(
            status=IdempotencyKey.Status.COMPLETED,
            response_status=status,
            response_content_type=content_type,
            response_body=body,
            completed_at=timezone.now(),
        )
    finally:
        _advisory_unlock(_lock_key(record.scope, record.key))


def idempotency_release(*, record: IdempotencyKey) -> None:
    """Forget the key after a server-side failure, so the client may retry with it."""
    try:
        IdempotencyKey.objects.filter(pk=record.pk).delete()
    finally:
        _advisory_unlock(_lock_key(record.scope, record.key))


def idempotency_prune() -> int:
    """Delete keys past their retention (API.md promises at least 24 hours)."""
    cutoff = timezone.now() - timedelta(hours=settings.IDEMPOTENCY_KEY_TTL_HOURS)
    deleted, _ = IdempotencyKey.objects.filter(created_at__lt=cutoff).delete()
    return deleted
