from __future__ import annotations

from django.db import models


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
