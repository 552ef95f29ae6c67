from __future__ import annotations

import uuid

from django.conf import settings
from django.db import models
from django.db.models import Q

from products.models import Variant
from promotions.models import FlashDeal, Promotion


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


class ReservationPromotion(models.Model):
    """One use of a promotion held by a reservation, for its buyer: it moves with the
    reservation's stock (held, consumed on commit, given back on release or expiry)."""

    reservation = models.ForeignKey(
        Reservation, on_delete=models.CASCADE, related_name="promotions"
    )
    promotion = models.ForeignKey(Promotion, on_delete=models.PROTECT, related_name="+")
    customer_id = models.CharField(max_length=128, blank=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["reservation", "promotion"], name="reservation_promotion_once"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.promotion_id} for {self.reservation_id}"


class ReservationFlashDeal(models.Model):
    """Units of a flash deal held by a reservation, for its buyer: they move with the
    reservation's stock (held, consumed on commit, given back on release or expiry)."""

    reservation = models.ForeignKey(
        Reservation, on_delete=models.CASCADE, related_name="flash_deals"
    )
    deal = models.ForeignKey(FlashDeal, on_delete=models.PROTECT, related_name="+")
    quantity = models.PositiveIntegerField()
    customer_id = models.CharField(max_length=128)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["reservation", "deal"], name="reservation_flash_once"),
            models.CheckConstraint(
                condition=models.Q(quantity__gt=0), name="reservation_flash_quantity_gt_0"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.quantity} of {self.deal_id} for {self.reservation_id}"


class StockMovement(models.Model):
    """One change of a variant's `quantity_on_hand`, appended and never edited: who moved
    how many units, why, and the level it left (ADR 13).

    Only on-hand moves are logged. Reserving and releasing only move `quantity_reserved`
    (units held for open checkouts stay on the shelf), so they write no movement; a sale
    leaves the shelf when its reservation is committed.
    """

    class Kind(models.TextChoices):
        RECEIVED = "received"  # merchant: units arrived
        WRITTEN_OFF = "written_off", "Written off"  # merchant: units lost, broken, taken out
        COUNTED = "counted"  # merchant: a count replaced the level it was checked against
        COMMITTED = "committed", "Sold"  # a paid reservation's units left the shelf
        RESTOCKED = "restocked"  # sold units came back (a return)

    id = models.BigAutoField(primary_key=True)
    # PROTECT: the log outlives nothing it describes; a variant with history is kept.
    variant = models.ForeignKey(Variant, on_delete=models.PROTECT, related_name="stock_movements")
    kind = models.CharField(max_length=12, choices=Kind.choices)
    delta = models.IntegerField(help_text="Units added (positive) or taken (negative).")
    on_hand_after = models.PositiveIntegerField("on hand after")
    # Who: an admin user's username (with `user`), or "system:<caller>" for services.
    actor = models.CharField(max_length=150)
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
    )
    # What it belongs to: the reservation id of a sale, the key of a restock.
    reference = models.CharField(max_length=200, blank=True)
    note = models.CharField(max_length=200, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [
            models.Index(
                fields=["variant", "-created_at", "-id"], name="stock_movement_variant_idx"
            )
        ]
        constraints = [
            models.CheckConstraint(condition=~Q(delta=0), name="stock_movement_delta_not_0"),
            models.CheckConstraint(
                condition=Q(on_hand_after__gte=0), name="stock_movement_on_hand_gte_0"
            ),
            # A sale or a restock moves a variant once per reservation or restock key.
            models.UniqueConstraint(
                fields=["variant", "kind", "reference"],
                condition=Q(kind__in=["committed", "restocked"]),
                name="stock_movement_once_per_reference",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.delta:+d} {self.get_kind_display()} -> {self.on_hand_after}"
