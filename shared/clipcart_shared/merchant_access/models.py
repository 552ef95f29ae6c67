from __future__ import annotations

import uuid
from typing import Any

from django.conf import settings
from django.db import models


class MerchantMembership(models.Model):
    """Which catalog merchant an admin user works for. Merchants live in catalog; this
    service knows them only by id (and a name for display)."""

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="merchant_memberships"
    )
    merchant_id = models.UUIDField()
    merchant_name = models.CharField(max_length=120)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["user", "merchant_id"], name="merchant_membership_once")
        ]

    def __str__(self) -> str:
        return f"{self.user} @ {self.merchant_name}"


def merchant_ids_for_user(user: Any) -> list[uuid.UUID] | None:
    """The merchants an admin user acts for; None means all (platform superusers)."""
    if getattr(user, "is_superuser", False):
        return None
    if not getattr(user, "is_authenticated", False):
        return []
    return list(MerchantMembership.objects.filter(user=user).values_list("merchant_id", flat=True))
