"""Merchant API keys: made (the key returned once), revoked, and checked."""

from __future__ import annotations

import hashlib
import secrets
import uuid
from datetime import timedelta

from django.utils import timezone

from merchant_api.models import MerchantApiKey

KEY_PREFIX = "cmk_"
# `last_used_at` is written at most this often per key, not on every request.
LAST_USED_RESOLUTION = timedelta(minutes=1)


def key_hash(key: str) -> str:
    return hashlib.sha256(key.encode()).hexdigest()


def merchant_api_key_create(
    *, merchant_id: uuid.UUID, name: str, created_by: str
) -> tuple[MerchantApiKey, str]:
    """A new key of the merchant (256 random bits): the row, and the key itself, which
    is never stored and cannot be shown again."""
    key = KEY_PREFIX + secrets.token_urlsafe(32)
    row = MerchantApiKey.objects.create(
        merchant_id=merchant_id,
        name=name[:100],
        prefix=key[:12],
        key_hash=key_hash(key),
        created_by=created_by[:160],
    )
    return row, key


def merchant_api_keys_revoke(*, key_ids: list[uuid.UUID]) -> int:
    """Revoke these keys (those not revoked yet); returns how many."""
    return MerchantApiKey.objects.filter(id__in=key_ids, revoked_at__isnull=True).update(
        revoked_at=timezone.now()
    )


def merchant_api_key_authenticate(*, key: str) -> MerchantApiKey | None:
    """The live key row for `key`, its use noted; None for an unknown or revoked key."""
    if not key.startswith(KEY_PREFIX) or len(key) > 200:
        return None
    row = MerchantApiKey.objects.filter(key_hash=key_hash(key), revoked_at__isnull=True).first()
    if row is None:
        return None
    now = timezone.now()
    if row.last_used_at is None or now - row.last_used_at > LAST_USED_RESOLUTION:
        MerchantApiKey.objects.filter(id=row.id).update(last_used_at=now)
    return row
