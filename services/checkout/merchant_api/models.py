from __future__ import annotations

import uuid

from django.db import models


class MerchantApiKey(models.Model):
    """A key a merchant's own systems call `/api/v1/merchant/` with. Only its SHA-256 is
    kept (the key is random and long, so a hash needs no salt or stretching) and its first
    characters, to tell keys apart; the key itself is shown once, when it is made."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    merchant_id = models.UUIDField(db_index=True)
    name = models.CharField(max_length=100, help_text='What uses it ("warehouse system").')
    prefix = models.CharField(max_length=16)
    key_hash = models.CharField(max_length=64, unique=True)
    created_by = models.CharField(max_length=160)
    created_at = models.DateTimeField(auto_now_add=True)
    revoked_at = models.DateTimeField(null=True, blank=True)
    last_used_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "id"]
        verbose_name = "merchant API key"

    def __str__(self) -> str:
        return f"{self.name} ({self.prefix}…)"
