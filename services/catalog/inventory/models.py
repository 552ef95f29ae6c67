from __future__ import annotations

import uuid

from django.db import models
from django.db.models import Q

from products.models import Variant


class Reservation(models.Model):
    """Stock held for one checkout until it is paid (committed) or given back."""

    class Status(models.TextChoices):
        ACTIVE = "active"
        COMMITTED = "committed"
        RELEASED = "released"
        EXPIRED = "expired"

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    # The caller's key (checkout derives it from the order): one reservation per key.
    key = models.CharField(max_length=200, unique=True)
    lines_fingerprint = models.CharField(max_length=64)
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.ACTIVE)
    expires_at = models.DateTimeField()
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["-created_at"]
        indexes = [
            models.Index(
                fields=["expires_at"],
                name="reservation_active_expiry_idx",
                condition=Q(status="active"),
            )
        ]

    def __str__(self) -> str:
        return f"{self.key} ({self.status})"


class ReservationLine(models.Model):
    reservation = models.ForeignKey(Reservation, on_delete=models.CASCADE, related_name="lines")
    variant = models.ForeignKey(Variant, on_delete=models.PROTECT, related_name="+")
    quantity = models.PositiveIntegerField()

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["reservation", "variant"], name="reservation_line_variant_once"
            ),
            models.CheckConstraint(condition=Q(quantity__gt=0), name="reservation_quantity_gt_0"),
        ]

    def __str__(self) -> str:
        return f"{self.quantity} x {self.variant_id}"
