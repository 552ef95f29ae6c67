"""Shipments, returns and the merchant's return policy: what happens to an order after it
is paid."""

from __future__ import annotations

import uuid

from django.core.validators import MaxValueValidator
from django.db import models
from django.db.models import Q

from orders.models.orders import Order, OrderLine


class Shipment(models.Model):
    """A parcel: some units of one merchant's lines of an order, with the carrier's
    tracking. Delivered by the merchant, by the carrier's tracking webhook, or by the
    timeout `FULFILMENT_AUTO_DELIVER_DAYS` after shipping."""

    class Status(models.TextChoices):
        SHIPPED = "shipped"
        IN_TRANSIT = "in_transit"
        EXCEPTION = "exception"
        DELIVERED = "delivered"

    class DeliveredBy(models.TextChoices):
        MERCHANT = "merchant"
        CARRIER = "carrier"
        TIMEOUT = "timeout"

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    order = models.ForeignKey(Order, on_delete=models.PROTECT, related_name="shipments")
    merchant_id = models.UUIDField()
    status = models.CharField(max_length=12, choices=Status.choices, default=Status.SHIPPED)
    carrier = models.CharField(max_length=60)
    tracking_number = models.CharField(max_length=100)
    # http(s) only; shown to the buyer, never fetched.
    tracking_url = models.URLField(max_length=500, blank=True)
    shipped_at = models.DateTimeField()
    # The carrier's last word (`in_transit`, `exception`), as the tracking webhook said it.
    tracking_updated_at = models.DateTimeField(null=True, blank=True)
    delivered_at = models.DateTimeField(null=True, blank=True)
    delivered_by = models.CharField(max_length=10, choices=DeliveredBy.choices, blank=True)
    # delivered_at plus the merchant's return window then.
    returns_close_at = models.DateTimeField(null=True, blank=True)
    created_by = models.CharField(max_length=160)

    class Meta:
        ordering = ["shipped_at", "id"]
        indexes = [
            models.Index(fields=["merchant_id", "-shipped_at"], name="shipment_merchant_idx"),
            models.Index(fields=["carrier", "tracking_number"], name="shipment_tracking_idx"),
            # The auto-delivery sweep takes the oldest shipments not yet delivered.
            models.Index(
                fields=["shipped_at"],
                name="shipment_undelivered_idx",
                condition=~Q(status="delivered"),
            ),
            # The order-events API pages deliveries by (delivered_at, id).
            models.Index(
                fields=["delivered_at", "id"],
                name="shipment_delivered_idx",
                condition=Q(delivered_at__isnull=False),
            ),
        ]
        constraints = [
            models.CheckConstraint(
                condition=Q(tracking_url="")
                | Q(tracking_url__startswith="https://")
                | Q(tracking_url__startswith="http://"),
                name="shipment_tracking_url_http",
            ),
        ]

    def __str__(self) -> str:
        return f"shipment {self.carrier} {self.tracking_number}"


class ShipmentLine(models.Model):
    shipment = models.ForeignKey(Shipment, on_delete=models.CASCADE, related_name="lines")
    line = models.ForeignKey(OrderLine, on_delete=models.PROTECT, related_name="shipment_lines")
    quantity = models.PositiveSmallIntegerField()

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["shipment", "line"], name="shipment_line_once"),
            models.CheckConstraint(condition=Q(quantity__gt=0), name="shipment_line_quantity"),
        ]

    def __str__(self) -> str:
        return f"{self.quantity} of {self.line_id}"


class OrderReturn(models.Model):
    """A buyer's return of delivered units of one merchant's lines, decided by that
    merchant: `requested → approved | rejected → received → refunded`. Its lines hold
    their units from the moment it is requested until it is rejected or refunded, so two
    returns at once cannot both take the last delivered unit."""

    class Status(models.TextChoices):
        REQUESTED = "requested"
        APPROVED = "approved"
        REJECTED = "rejected"
        RECEIVED = "received"
        REFUNDED = "refunded"

    class Reason(models.TextChoices):
        CHANGED_MIND = "changed_mind"
        DAMAGED = "damaged"
        WRONG_ITEM = "wrong_item"
        NOT_AS_DESCRIBED = "not_as_described"
        ARRIVED_LATE = "arrived_late"
        OTHER = "other"

    OPEN = (Status.REQUESTED, Status.APPROVED, Status.RECEIVED)

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    order = models.ForeignKey(Order, on_delete=models.PROTECT, related_name="returns")
    merchant_id = models.UUIDField()
    user_id = models.CharField(max_length=128)
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.REQUESTED)
    reason = models.CharField(max_length=20, choices=Reason.choices)
    note = models.CharField(max_length=1000, blank=True)
    # The buyer's Idempotency-Key: the same request again answers the same return.
    idempotency_key = models.CharField(max_length=255)
    # The merchant's: why it was rejected; how to send it back (from their policy).
    rejection_reason = models.CharField(max_length=500, blank=True)
    instructions = models.TextField(blank=True)
    # Decided when it is received: the units go back to stock; shipping is refunded too
    # (only when the whole merchant part comes back).
    restock = models.BooleanField(default=False)
    refund_shipping = models.BooleanField(default=False)
    refund = models.OneToOneField(
        "Refund", on_delete=models.PROTECT, null=True, blank=True, related_name="order_return"
    )
    requested_at = models.DateTimeField(auto_now_add=True)
    decided_at = models.DateTimeField(null=True, blank=True)
    decided_by = models.CharField(max_length=160, blank=True)
    received_at = models.DateTimeField(null=True, blank=True)
    # Rejected or refunded: it holds no units any more (`order.return_closed`).
    closed_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-requested_at", "id"]
        indexes = [
            models.Index(fields=["merchant_id", "status"], name="return_merchant_idx"),
            models.Index(fields=["requested_at", "id"], name="return_requested_idx"),
            models.Index(
                fields=["closed_at", "id"],
                name="return_closed_idx",
                condition=Q(closed_at__isnull=False),
            ),
        ]
        constraints = [
            models.UniqueConstraint(
                fields=["user_id", "idempotency_key"], name="return_idempotency_key_once"
            ),
        ]

    def __str__(self) -> str:
        return f"return {self.id} of {self.order_id} ({self.status})"


class ReturnLine(models.Model):
    order_return = models.ForeignKey(OrderReturn, on_delete=models.CASCADE, related_name="lines")
    line = models.ForeignKey(OrderLine, on_delete=models.PROTECT, related_name="return_lines")
    quantity = models.PositiveSmallIntegerField()

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["order_return", "line"], name="return_line_once"),
            models.CheckConstraint(condition=Q(quantity__gt=0), name="return_line_quantity"),
        ]

    def __str__(self) -> str:
        return f"{self.quantity} of {self.line_id}"


class MerchantPolicy(models.Model):
    """A merchant's after-sale rules, set by its staff in the checkout admin. A merchant
    without a row has the defaults."""

    merchant_id = models.UUIDField(primary_key=True)
    return_window_days = models.PositiveSmallIntegerField(
        default=30, validators=[MaxValueValidator(365)]
    )
    return_instructions = models.TextField(
        blank=True, help_text="Sent to the buyer when a return is approved."
    )
    # The platform's fee on the merchant's settled sales, in basis points of what it was
    # paid (lines and shipping, less refunds); empty: the setting `PLATFORM_FEE_BPS`.
    platform_fee_bps = models.PositiveIntegerField(
        null=True,
        blank=True,
        validators=[MaxValueValidator(10_000)],
        help_text="Platform fee in basis points (100 = 1 %); empty for the default. "
        "Platform staff only.",
    )
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name_plural = "merchant policies"

    def __str__(self) -> str:
        return f"policy of {self.merchant_id}"
