from __future__ import annotations

import uuid

from django.db import models
from django.utils import timezone

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


class BalanceEntry(models.Model):
    """One movement of a creator's payout balance, per merchant whose sales it comes from
    (checkout's ledger holds the creators' commission per merchant) and currency, in minor
    units: + owed to the creator, - paid or taken back. Append-only, once per source
    (`source_key` unique): a credit of a settled line (`credit:<credit id>`), a payout's
    share (`payout:<payout>:<merchant>`), or its return after Stripe refused it
    (`payout_failed:<payout>:<merchant>`). A creator's balance is the sum; it may be
    negative (a clawback larger than what was owed), and then carries forward."""

    class Kind(models.TextChoices):
        # The commission of a line that settled, frozen when the payout run saw it settled.
        COMMISSION = "commission"
        # A refund's reversing credit on a line already settled: taken from later payouts.
        CLAWBACK = "clawback"
        PAYOUT = "payout"
        PAYOUT_FAILED = "payout_failed"

    id = models.BigAutoField(primary_key=True)
    creator = models.ForeignKey(Creator, on_delete=models.PROTECT, related_name="balance_entries")
    merchant_id = models.UUIDField()
    currency = models.CharField(max_length=3)
    kind = models.CharField(max_length=14, choices=Kind.choices)
    amount = models.BigIntegerField()
    source_key = models.CharField(max_length=120, unique=True)
    sale_line_id = models.UUIDField(null=True, blank=True)
    payout = models.ForeignKey(
        "CreatorPayout", null=True, blank=True, on_delete=models.PROTECT, related_name="entries"
    )
    # When the run posted it: a batch pays what was posted before the batch began.
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["-created_at", "-id"]
        verbose_name_plural = "balance entries"
        indexes = [
            models.Index(fields=["creator", "currency", "merchant_id"], name="balance_creator_idx")
        ]
        constraints = [
            models.CheckConstraint(condition=~models.Q(amount=0), name="balance_entry_not_zero")
        ]

    def __str__(self) -> str:
        return f"{self.kind} {self.amount} {self.currency}"


class SettledSaleLine(models.Model):
    """A sale line the payout run saw settled (ADR 26's rule, under its merchant's model):
    its credits then were frozen as commission; credits arriving later are clawbacks."""

    line_id = models.UUIDField(primary_key=True)
    settled_at = models.DateTimeField()

    def __str__(self) -> str:
        return str(self.line_id)


class CreatorPayout(models.Model):
    """One creator's payout of one batch in one currency: their whole balance, sent by a
    Stripe transfer from the platform to their enabled Connect account. One per (account,
    batch, currency) — a unique constraint, so redelivered and concurrent runs pay once;
    the row's id is the transfer's idempotency key. `sending` once written (committed
    before Stripe is asked); `sent` with Stripe's transfer; `failed` when Stripe refused
    (the balance is given back and rolls over). `ledger_recorded_at`: checkout's ledger
    posted it (the platform's cash and the creators' commission payable)."""

    class Status(models.TextChoices):
        SENDING = "sending"
        SENT = "sent"
        FAILED = "failed"

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    creator = models.ForeignKey(Creator, on_delete=models.PROTECT, related_name="payouts")
    batch = models.DateTimeField(help_text="The start of the batch's period.")
    stripe_account_id = models.CharField(max_length=255)
    currency = models.CharField(max_length=3)
    amount = models.PositiveBigIntegerField()
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.SENDING)
    stripe_transfer_id = models.CharField(max_length=255, blank=True)
    last_failure = models.CharField(max_length=300, blank=True)
    sending_since = models.DateTimeField()
    created_at = models.DateTimeField(auto_now_add=True)
    sent_at = models.DateTimeField(null=True, blank=True)
    ledger_recorded_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "id"]
        constraints = [
            models.UniqueConstraint(
                fields=["stripe_account_id", "batch", "currency"], name="payout_once_per_batch"
            ),
            models.CheckConstraint(condition=models.Q(amount__gt=0), name="payout_positive"),
        ]

    def __str__(self) -> str:
        return f"payout {self.amount} {self.currency} to {self.stripe_account_id} ({self.status})"
