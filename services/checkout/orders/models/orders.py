from __future__ import annotations

import uuid

from django.db import models
from django.db.models import F, Q


class Order(models.Model):
    """A checkout: the lines as quoted, the stock held for them, the PaymentIntent."""

    class Status(models.TextChoices):
        PENDING_PAYMENT = "pending_payment"
        PAID = "paid"
        # Follow the lines' fulfilment (`orders.services.status.order_status_derive`).
        PARTIALLY_SHIPPED = "partially_shipped"
        SHIPPED = "shipped"
        DELIVERED = "delivered"
        CANCELLED = "cancelled"
        REFUNDED = "refunded"
        PARTIALLY_REFUNDED = "partially_refunded"

    # Paid, and neither cancelled nor refunded whole: what refunds, shipments and returns
    # change (the status then follows, `orders.services.status.order_status_derive`).
    AFTER_PAYMENT = (
        Status.PAID,
        Status.PARTIALLY_SHIPPED,
        Status.SHIPPED,
        Status.DELIVERED,
        Status.PARTIALLY_REFUNDED,
    )

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    user_id = models.CharField(max_length=128, db_index=True)
    email = models.EmailField()
    shipping_address = models.JSONField()
    status = models.CharField(max_length=20, choices=Status.choices, default=Status.PENDING_PAYMENT)
    currency = models.CharField(max_length=3)
    # The lines' net totals; the shipping after free-shipping promotions; what is charged.
    subtotal_amount = models.PositiveIntegerField()
    shipping_amount = models.PositiveIntegerField()
    total_amount = models.PositiveIntegerField()
    # What promotions took off, lines and shipping (the rows are in `discounts`).
    discount_amount = models.PositiveIntegerField(default=0)
    # The promotions applied, as catalog's quote priced them: [{promotion_id, merchant_id,
    # code, kind, description, amount, shipping, lines: {line id: amount}}] (ADR 32).
    discounts = models.JSONField(default=list, blank=True)
    refunded_amount = models.PositiveIntegerField(default=0)
    reservation_id = models.UUIDField()
    payment_intent_id = models.CharField(max_length=255, unique=True)
    stripe_customer_id = models.CharField(max_length=255)
    payment_failures = models.PositiveSmallIntegerField(default=0)
    last_payment_error = models.CharField(max_length=500, blank=True)
    is_disputed = models.BooleanField(default=False)
    expires_at = models.DateTimeField()
    paid_at = models.DateTimeField(null=True, blank=True)
    # The payment succeeded and its stock was asked of catalog at this time (recorded and
    # committed before the call, so no order row is locked while catalog answers); the
    # answer then makes the order paid, or cancelled when the stock is gone.
    stock_commit_requested_at = models.DateTimeField(null=True, blank=True)
    cancelled_at = models.DateTimeField(null=True, blank=True)
    # Why it was cancelled ("expired", "stock gone before payment", the buyer's words…).
    cancellation_reason = models.CharField(max_length=200, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [
            models.Index(fields=["user_id", "-created_at"], name="order_user_idx"),
            models.Index(
                fields=["expires_at"],
                name="order_pending_idx",
                condition=Q(status="pending_payment"),
            ),
            # The order-events API pages paid orders by (paid_at, id).
            models.Index(
                fields=["paid_at", "id"],
                name="order_paid_idx",
                condition=Q(paid_at__isnull=False),
            ),
        ]
        constraints = [
            models.CheckConstraint(
                condition=Q(total_amount=F("subtotal_amount") + F("shipping_amount")),
                name="order_total_adds_up",
            ),
            models.CheckConstraint(
                condition=Q(refunded_amount__lte=F("total_amount")),
                name="order_refund_at_most_total",
            ),
        ]

    def __str__(self) -> str:
        return f"order {self.id}"


class OrderLine(models.Model):
    """A snapshot of what was bought, as quoted at checkout, and what became of its units:
    shipped (in shipments), delivered, cancelled by the buyer before shipping, returned.
    The counts only grow, each under the order's lock; `fulfilment_status` is what they
    add up to (`orders.services.status.line_fulfilment_status`)."""

    class Fulfilment(models.TextChoices):
        UNFULFILLED = "unfulfilled"
        SHIPPED = "shipped"
        DELIVERED = "delivered"
        RETURNED = "returned"

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    order = models.ForeignKey(Order, on_delete=models.CASCADE, related_name="lines")
    variant_id = models.UUIDField()
    product_id = models.UUIDField()
    merchant_id = models.UUIDField(db_index=True)
    merchant_name = models.CharField(max_length=120)
    sku = models.CharField(max_length=64)
    title = models.CharField(max_length=400)
    quantity = models.PositiveSmallIntegerField()
    # The list price; `discount_amount` is what promotions took off the line, and
    # `line_total_amount` what it costs (net): what is charged, refunded and credited.
    unit_price_amount = models.PositiveIntegerField()
    discount_amount = models.PositiveIntegerField(default=0)
    line_total_amount = models.PositiveIntegerField()
    refunded_amount = models.PositiveIntegerField(default=0)
    source_video_id = models.UUIDField(null=True, blank=True)
    source_tag_id = models.UUIDField(null=True, blank=True)
    # When the line was picked from the video (attribution counts it as a click then).
    source_added_at = models.DateTimeField(null=True, blank=True)
    fulfilment_status = models.CharField(
        max_length=12, choices=Fulfilment.choices, default=Fulfilment.UNFULFILLED
    )
    shipped_quantity = models.PositiveSmallIntegerField(default=0)
    delivered_quantity = models.PositiveSmallIntegerField(default=0)
    # Cancelled (and refunded) by the buyer before they shipped.
    cancelled_quantity = models.PositiveSmallIntegerField(default=0)
    # Received back by the merchant from a return.
    returned_quantity = models.PositiveSmallIntegerField(default=0)
    # The line's last delivery, and the end of its merchant's return window after it
    # (the window as it was on delivery).
    delivered_at = models.DateTimeField(null=True, blank=True)
    returns_close_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["title", "id"]
        constraints = [
            models.CheckConstraint(
                condition=Q(shipped_quantity__lte=F("quantity") - F("cancelled_quantity")),
                name="order_line_ships_what_is_left",
            ),
            models.CheckConstraint(
                condition=Q(delivered_quantity__lte=F("shipped_quantity")),
                name="order_line_delivers_what_shipped",
            ),
            models.CheckConstraint(
                condition=Q(returned_quantity__lte=F("delivered_quantity")),
                name="order_line_returns_what_was_delivered",
            ),
            models.CheckConstraint(
                condition=Q(
                    line_total_amount=F("unit_price_amount") * F("quantity") - F("discount_amount")
                ),
                name="order_line_net_total_adds_up",
            ),
            models.CheckConstraint(
                condition=Q(refunded_amount__lte=F("line_total_amount")),
                name="order_line_refund_at_most_total",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.quantity} x {self.title}"


class Refund(models.Model):
    """Money given back, whole or for some lines; never deleted.

    A refund made here is written `pending` before Stripe is asked (its id is Stripe's
    idempotency key), so that what it takes is reserved under the order's lock and two
    refunds at once cannot both be given more than is left; it becomes `succeeded` (and
    only then counts in the order's and lines' refunded amounts) or `failed` (nothing
    given back, the amount is free again). A refund made on Stripe's side is recorded
    `succeeded` at once."""

    class Status(models.TextChoices):
        PENDING = "pending"
        SUCCEEDED = "succeeded"
        FAILED = "failed"

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    order = models.ForeignKey(Order, on_delete=models.PROTECT, related_name="refunds")
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.SUCCEEDED)
    amount = models.PositiveIntegerField()
    # Per line: {line id: amount}; the amounts add up to `amount` (less what exceeds the
    # lines, such as shipping). Reserved while pending, applied when succeeded.
    lines = models.JSONField()
    stripe_refund_id = models.CharField(max_length=255, blank=True)
    reason = models.CharField(max_length=200, blank=True)
    created_by = models.CharField(max_length=160)
    created_at = models.DateTimeField(auto_now_add=True)

    # The units it pays back, {line id: units}: those a buyer cancelled or returned, or
    # those staff chose to put back on the shelf; empty for a refund of money only.
    units = models.JSONField(default=dict, blank=True)
    # Once it succeeds, `units` go back to stock in catalog (keyed by the refund, so once).
    restock = models.BooleanField(default=False)

    # Why Stripe gave nothing back, for a failed refund.
    failure = models.CharField(max_length=300, blank=True)
    completed_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at"]
        indexes = [
            # The order-events API pages refunds by (created_at, id).
            models.Index(fields=["created_at", "id"], name="refund_created_idx"),
            models.Index(
                fields=["created_at"],
                condition=Q(status="pending"),
                name="refund_pending_created",
            ),
        ]

    def __str__(self) -> str:
        return f"refund {self.amount} of {self.order_id} ({self.status})"


class CheckoutHold(models.Model):
    """A checkout on its way: claimed (under the buyer's lock) before catalog reserves
    stock or Stripe is asked, given back when the checkout returns or fails. It counts
    against the buyer's caps until then, so two checkouts at once cannot both take the
    last open slot (ADR 14). Its id is the order's to be; the order, once written, counts
    itself. One left by a process that died lapses at `expires_at`, as its order would."""

    id = models.UUIDField(primary_key=True, editable=False)
    user_id = models.CharField(max_length=128)
    # [{"variant_id": "...", "quantity": n}]: what it will hold.
    lines = models.JSONField()
    created_at = models.DateTimeField(auto_now_add=True)
    expires_at = models.DateTimeField()

    class Meta:
        indexes = [models.Index(fields=["user_id", "expires_at"], name="checkout_hold_user_idx")]

    def __str__(self) -> str:
        return f"checkout hold {self.id} of {self.user_id}"
