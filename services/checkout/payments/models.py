from __future__ import annotations

from django.db import models

from clipcart_shared.connect import PayoutStatus


class StripeCustomer(models.Model):
    """The Stripe customer of a mobile user, created once and reused."""

    user_id = models.CharField(max_length=128, unique=True)
    customer_id = models.CharField(max_length=255)
    created_at = models.DateTimeField(auto_now_add=True)

    def __str__(self) -> str:
        return self.customer_id


class WebhookEvent(models.Model):
    """Every Stripe event received, by Stripe's id: a redelivery is recognised, and each
    event is applied once by the worker."""

    class Status(models.TextChoices):
        RECEIVED = "received"
        PROCESSED = "processed"
        IGNORED = "ignored"
        FAILED = "failed"
        # Signed, but what it says (PaymentIntent, status, amount, currency) is not the
        # order's: never applied, shown to platform staff, logged as an error.
        MISMATCH = "mismatch"

    event_id = models.CharField(max_length=255, unique=True)
    type = models.CharField(max_length=100)
    payload = models.JSONField()
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.RECEIVED)
    error = models.TextField(blank=True)
    received_at = models.DateTimeField(auto_now_add=True)
    processed_at = models.DateTimeField(null=True, blank=True)
    # Claimed by an applier (orders' worker) at this time: the row is not locked while the
    # event is applied, so this keeps a second applier off it for a while.
    applying_since = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-received_at"]
        indexes = [
            # The sweep applies waiting events oldest first.
            models.Index(
                fields=["received_at", "id"],
                name="webhook_waiting_idx",
                condition=models.Q(status="received"),
            )
        ]

    def __str__(self) -> str:
        return f"{self.type} {self.event_id}"


class MerchantPayoutAccount(models.Model):
    """A merchant's Stripe Connect (Express) account, which its share of settled sales
    will be transferred to, set up by its staff from the admin ("Set up payouts"). Its
    status follows Stripe's `account.updated` events; `none` is never stored."""

    Status = PayoutStatus

    merchant_id = models.UUIDField(unique=True)
    stripe_account_id = models.CharField(max_length=255, unique=True)
    status = models.CharField(
        max_length=10,
        choices=[(value, label) for value, label in PayoutStatus.choices if value != "none"],
        default=PayoutStatus.PENDING,
    )
    # The `created` time of the Stripe event the status comes from: Stripe does not send
    # events in order, so an older event never overwrites what a newer one said.
    status_event_created = models.BigIntegerField(default=0)
    created_by = models.CharField(max_length=160)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["-created_at"]
        verbose_name = "payout account"
        constraints = [
            models.CheckConstraint(
                condition=models.Q(status__in=["pending", "enabled", "restricted"]),
                name="merchant_payout_account_status",
            )
        ]

    def __str__(self) -> str:
        return f"{self.stripe_account_id} ({self.status})"
