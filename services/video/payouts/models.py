from __future__ import annotations

import uuid

from django.db import models

from clipcart_shared.connect import PayoutStatus
from creators.models import Creator


class CreatorPayoutAccount(models.Model):
    """A creator's Stripe Connect (Express) account, which their commission will be
    transferred to. Its status follows Stripe's `account.updated` events; `none` is never
    stored (no row is `none`)."""

    Status = PayoutStatus

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    creator = models.OneToOneField(Creator, on_delete=models.PROTECT, related_name="payout_account")
    stripe_account_id = models.CharField(max_length=255, unique=True)
    status = models.CharField(
        max_length=10,
        choices=[(value, label) for value, label in PayoutStatus.choices if value != "none"],
        default=PayoutStatus.PENDING,
    )
    # The `created` time of the Stripe event the status comes from: Stripe does not send
    # events in order, so an older event never overwrites what a newer one said.
    status_event_created = models.BigIntegerField(default=0)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        constraints = [
            models.CheckConstraint(
                condition=models.Q(status__in=["pending", "enabled", "restricted"]),
                name="creator_payout_account_status",
            )
        ]

    def __str__(self) -> str:
        return f"{self.stripe_account_id} ({self.status})"


class ConnectWebhookEvent(models.Model):
    """Every Stripe Connect event received, by Stripe's id: a redelivery is recognised
    and answered 200 without being applied again."""

    event_id = models.CharField(max_length=255, unique=True)
    type = models.CharField(max_length=100)
    stripe_account_id = models.CharField(max_length=255, blank=True)
    # What became of it: `processed`, or `ignored` with the reason.
    outcome = models.CharField(max_length=10)
    reason = models.CharField(max_length=200, blank=True)
    received_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-received_at"]

    def __str__(self) -> str:
        return f"{self.type} {self.event_id}"
