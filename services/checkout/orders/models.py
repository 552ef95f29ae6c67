from __future__ import annotations

import uuid

from django.core.validators import MaxValueValidator
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
