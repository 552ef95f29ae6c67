from __future__ import annotations

import uuid

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


class LedgerAccount(models.TextChoices):
    """The ledger's accounts. A posting's amount is a debit when positive, a credit when
    negative: assets (cash) grow with debits, liabilities and revenue with credits."""

    # What the platform holds at Stripe (the buyers' payments, less refunds and transfers).
    PLATFORM_CASH = "platform_cash"
    # Owed to a merchant for paid orders whose part has not settled yet (per merchant).
    MERCHANT_PENDING = "merchant_pending"
    # Owed to a merchant for settled parts, until transferred (per merchant); negative
    # while a refund after a transfer waits for its reversal.
    MERCHANT_PAYABLE = "merchant_payable"
    # Commission owed to creators for settled sales of a merchant's lines (per merchant);
    # video's payout batches pay creators from it (`creator_payout` entries, ADR 33): its
    # credit balance is what the platform still owes creators; a debit balance, what
    # payouts paid before a refund clawed it back (recovered from later payouts).
    CREATOR_COMMISSION_PAYABLE = "creator_commission_payable"
    # The platform's fee on settled parts.
    PLATFORM_FEE_REVENUE = "platform_fee_revenue"


class LedgerEntry(models.Model):
    """One business event's movement of money: balanced postings (per currency they add
    up to zero: enforced by a deferred constraint trigger), posted once per source event
    (`source_key` is unique), never changed or deleted (a trigger refuses it)."""

    class Kind(models.TextChoices):
        ORDER_PAID = "order_paid"
        REFUND = "refund"
        SETTLEMENT = "settlement"
        TRANSFER = "transfer"
        TRANSFER_REVERSAL = "transfer_reversal"
        # A creator's payout (made by video, ADR 33): their commission payable, per
        # merchant, paid out of the platform's cash.
        CREATOR_PAYOUT = "creator_payout"
        # A refund after settlement: the commission video clawed back for it (ADR 38),
        # owed back to the merchant from `creator_commission_payable`.
        COMMISSION_CLAWBACK = "commission_clawback"

    id = models.BigAutoField(primary_key=True)
    kind = models.CharField(max_length=20, choices=Kind.choices)
    # The event posted, e.g. `order_paid:<order id>`, `refund:<refund id>`: a replay
    # posts nothing (the database refuses a second row).
    source_key = models.CharField(max_length=120, unique=True)
    order_id = models.UUIDField(null=True, blank=True, db_index=True)
    memo = models.CharField(max_length=200, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        verbose_name_plural = "ledger entries"

    def __str__(self) -> str:
        return self.source_key


class LedgerPosting(models.Model):
    """One line of an entry: an amount (debit > 0, credit < 0) on one account, per
    merchant for the merchant accounts."""

    id = models.BigAutoField(primary_key=True)
    entry = models.ForeignKey(LedgerEntry, on_delete=models.PROTECT, related_name="postings")
    account = models.CharField(max_length=30, choices=LedgerAccount.choices)
    merchant_id = models.UUIDField(null=True, blank=True)
    currency = models.CharField(max_length=3)
    amount = models.BigIntegerField()

    class Meta:
        ordering = ["entry", "id"]
        indexes = [
            models.Index(fields=["account", "merchant_id", "currency"], name="posting_account_idx")
        ]
        constraints = [
            models.CheckConstraint(condition=~models.Q(amount=0), name="posting_not_zero"),
            models.CheckConstraint(
                condition=models.Q(
                    account__in=["platform_cash", "platform_fee_revenue"],
                    merchant_id__isnull=True,
                )
                | (
                    ~models.Q(account__in=["platform_cash", "platform_fee_revenue"])
                    & models.Q(merchant_id__isnull=False)
                ),
                name="posting_merchant_on_merchant_accounts",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.account} {self.amount} {self.currency}"


class MerchantTransferBatch(models.Model):
    """One Stripe transfer to a merchant's Connect account: its settled parts waiting at
    the batch's start (ADR 30, amended by ADR 38), sent once per (account, batch,
    currency) — a unique constraint — with the row's id as idempotency key. `sending`
    once written (committed before Stripe is asked); `sent` with Stripe's transfer;
    `failed` when Stripe refused it (its parts wait again, for the next batch)."""

    class Status(models.TextChoices):
        SENDING = "sending"
        SENT = "sent"
        FAILED = "failed"

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    merchant_id = models.UUIDField()
    stripe_account_id = models.CharField(max_length=255)
    # The start of the batch period (`MERCHANT_TRANSFER_PERIOD_SECONDS`) it was made in.
    batch = models.DateTimeField()
    currency = models.CharField(max_length=3)
    amount = models.PositiveIntegerField()
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.SENDING)
    stripe_transfer_id = models.CharField(max_length=255, blank=True)
    last_failure = models.CharField(max_length=300, blank=True)
    sending_since = models.DateTimeField()
    created_at = models.DateTimeField(auto_now_add=True)
    sent_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "id"]
        verbose_name = "merchant transfer batch"
        verbose_name_plural = "merchant transfer batches"
        indexes = [
            models.Index(fields=["merchant_id", "-created_at"], name="transfer_batch_merchant_idx"),
            models.Index(
                fields=["sending_since"],
                name="transfer_batch_sending_idx",
                condition=models.Q(status="sending"),
            ),
        ]
        constraints = [
            # One Stripe transfer per account, batch and currency, whatever the concurrency.
            models.UniqueConstraint(
                fields=["stripe_account_id", "batch", "currency"], name="transfer_batch_once"
            ),
            models.CheckConstraint(
                condition=models.Q(amount__gt=0), name="transfer_batch_positive"
            ),
        ]

    def __str__(self) -> str:
        return f"batch {self.amount} {self.currency} to {self.merchant_id} ({self.status})"


class MerchantTransfer(models.Model):
    """A merchant's settled part of one order, owed to its Connect account: one per
    (order, merchant), made by the settlement sweep. `waiting` (accruing to the
    merchant's payable) until a batch takes it (ADR 38: one Stripe transfer per
    account, batch and currency, `batch_transfer`); `sending` while that batch is sent;
    `sent` with the batch's Stripe transfer; `nothing` when nothing is left to transfer
    (refunded whole, or fee and commission take it all)."""

    class Status(models.TextChoices):
        WAITING = "waiting"
        SENDING = "sending"
        SENT = "sent"
        NOTHING = "nothing"

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    order_id = models.UUIDField()
    merchant_id = models.UUIDField()
    currency = models.CharField(max_length=3)
    # What the merchant's part came to at settlement: its lines and shipping less refunds.
    gross_amount = models.PositiveIntegerField()
    fee_rate_bps = models.PositiveIntegerField()
    fee_amount = models.PositiveIntegerField()
    commission_amount = models.PositiveIntegerField()
    # gross - fee - commission, less refunds made after settlement but before sending.
    amount = models.PositiveIntegerField()
    reversed_amount = models.PositiveIntegerField(default=0)
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.WAITING)
    # The batch (one Stripe transfer) that carries it; its Stripe transfer id is copied
    # below once sent, and a refund after that reverses this part's share of it.
    batch_transfer = models.ForeignKey(
        MerchantTransferBatch,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="parts",
    )
    stripe_account_id = models.CharField(max_length=255, blank=True)
    stripe_transfer_id = models.CharField(max_length=255, blank=True)
    # The last time Stripe refused or could not be reached (the transfer waits again).
    last_failure = models.CharField(max_length=300, blank=True)
    sending_since = models.DateTimeField(null=True, blank=True)
    settled_at = models.DateTimeField(auto_now_add=True)
    sent_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-settled_at", "id"]
        verbose_name = "merchant transfer"
        indexes = [
            models.Index(fields=["merchant_id", "-settled_at"], name="transfer_merchant_idx"),
            models.Index(
                fields=["settled_at"],
                name="transfer_unsent_idx",
                condition=models.Q(status__in=["waiting", "sending"]),
            ),
        ]
        constraints = [
            # One transfer per settlement, whatever the concurrency (not only a check).
            models.UniqueConstraint(fields=["order_id", "merchant_id"], name="transfer_once"),
            models.CheckConstraint(
                condition=models.Q(reversed_amount__lte=models.F("amount")),
                name="transfer_reversed_at_most_amount",
            ),
        ]

    def __str__(self) -> str:
        return f"transfer {self.amount} {self.currency} to {self.merchant_id} ({self.status})"


class TransferReversal(models.Model):
    """The merchant's share of a refund made after its part was transferred (or while it
    was being sent), taken back from the transfer at Stripe: `pending` until the transfer
    is sent and the reversal made (its id the idempotency key), then `sent`."""

    class Status(models.TextChoices):
        PENDING = "pending"
        SENT = "sent"

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    transfer = models.ForeignKey(
        MerchantTransfer, on_delete=models.PROTECT, related_name="reversals"
    )
    refund_id = models.UUIDField()
    amount = models.PositiveIntegerField()
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.PENDING)
    stripe_reversal_id = models.CharField(max_length=255, blank=True)
    last_failure = models.CharField(max_length=300, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    sent_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "id"]
        constraints = [
            models.UniqueConstraint(fields=["transfer", "refund_id"], name="reversal_once"),
            models.CheckConstraint(condition=models.Q(amount__gt=0), name="reversal_positive"),
        ]

    def __str__(self) -> str:
        return f"reversal {self.amount} of {self.transfer_id} ({self.status})"


class SettledPartRefund(models.Model):
    """A refund's share of a merchant part that had settled (ADR 38): the fee given back
    at once, and the commission taken back once video has applied the refund — what its
    reversing credits took from the part's lines (`commission_amount`, null until then).
    Only then is the merchant's share (share less fee less commission) taken from its
    transfer. One per (part, refund): a replayed refund adds nothing."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    transfer = models.ForeignKey(
        MerchantTransfer, on_delete=models.PROTECT, related_name="refunds_after"
    )
    refund_id = models.UUIDField()
    share_amount = models.PositiveIntegerField()
    fee_amount = models.PositiveIntegerField()
    commission_amount = models.PositiveIntegerField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    clawed_back_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["created_at", "id"]
        constraints = [
            models.UniqueConstraint(fields=["transfer", "refund_id"], name="part_refund_once"),
            models.CheckConstraint(
                condition=models.Q(fee_amount__lte=models.F("share_amount")),
                name="part_refund_fee_within_share",
            ),
        ]
        indexes = [
            models.Index(
                fields=["created_at"],
                name="part_refund_awaiting_idx",
                condition=models.Q(commission_amount__isnull=True),
            )
        ]

    def __str__(self) -> str:
        return f"refund {self.refund_id} of part {self.transfer_id}"
