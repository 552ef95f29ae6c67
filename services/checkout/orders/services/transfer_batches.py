"""Merchants paid in batches (ADR 38, amending ADR 30): a settled part accrues to its
merchant's payable (its `MerchantTransfer` waits); each batch period
(`MERCHANT_TRANSFER_PERIOD_SECONDS`, from Monday 00:00 UTC) sends, per enabled merchant
account and currency, everything waiting as ONE Stripe transfer:

1. under the account's row lock, a `MerchantTransferBatch` is written — unique on
   (account, batch, currency), so a duplicate or concurrent run writes none — and the
   parts waiting are set `sending` on it; committed before Stripe is asked;
2. Stripe is asked with `Idempotency-Key: clipcart-transfer-batch-<batch id>`; a timeout
   leaves it `sending`, asked again with the same key after `SENDING_LEASE`; a refusal
   marks it `failed` and its parts wait again (for the next batch);
3. once Stripe answered, the batch and its parts are `sent` (each part keeps the Stripe
   transfer's id, which a refund's reversal is made on) and each part's transfer posted
   (`transfer:<part id>`, its order's) in one transaction, set-based."""

from __future__ import annotations

import logging
import uuid
from datetime import UTC, datetime, timedelta

from django.conf import settings
from django.db import IntegrityError, transaction
from django.utils import timezone

from payments import stripe_api
from payments.ledger import batch_transfers_post
from payments.models import MerchantPayoutAccount, MerchantTransfer, MerchantTransferBatch

logger = logging.getLogger(__name__)

# A batch written this long ago whose answer was never recorded (a timeout, a worker that
# died) is asked again, with the same idempotency key.
SENDING_LEASE = timedelta(minutes=10)
# Periods start on a Monday, 00:00 UTC (1970-01-05 was one), as creators' (ADR 33).
PERIOD_ANCHOR = datetime(1970, 1, 5, tzinfo=UTC)


def transfer_batch_of(moment: datetime) -> datetime:
    """The start of the merchant batch period `moment` falls in."""
    period = settings.MERCHANT_TRANSFER_PERIOD_SECONDS
    elapsed = int((moment - PERIOD_ANCHOR).total_seconds())
    return PERIOD_ANCHOR + timedelta(seconds=elapsed - elapsed % period)


def batches_due(*, now: datetime) -> list[tuple[uuid.UUID, str]]:
    """(merchant, currency) with parts waiting and an enabled account, or with a batch
    left `sending` past the lease; one query each."""
    enabled = MerchantPayoutAccount.objects.filter(
        status=MerchantPayoutAccount.Status.ENABLED
    ).values("merchant_id")
    waiting = (
        MerchantTransfer.objects.filter(
            status=MerchantTransfer.Status.WAITING, amount__gt=0, merchant_id__in=enabled
        )
        .values_list("merchant_id", "currency")
        .distinct()
    )
    stale = MerchantTransferBatch.objects.filter(
        status=MerchantTransferBatch.Status.SENDING, sending_since__lt=now - SENDING_LEASE
    ).values_list("merchant_id", "currency")
    return sorted(set(waiting) | set(stale), key=lambda due: (str(due[0]), due[1]))


def transfer_batch_make(
    *, merchant_id: uuid.UUID, currency: str, now: datetime
) -> MerchantTransferBatch | None:
    """This period's batch for the merchant's enabled account, written once with the parts
    waiting (committed on return), or None: no enabled account, nothing waiting, or the
    period's batch exists already (made by this or another run)."""
    batch_start = transfer_batch_of(now)
    with transaction.atomic():
        account = (
            MerchantPayoutAccount.objects.select_for_update()
            .filter(merchant_id=merchant_id, status=MerchantPayoutAccount.Status.ENABLED)
            .first()
        )
        if account is None:
            return None
        if MerchantTransferBatch.objects.filter(
            stripe_account_id=account.stripe_account_id, batch=batch_start, currency=currency
        ).exists():
            return None
        waiting = MerchantTransfer.objects.filter(
            merchant_id=merchant_id,
            currency=currency,
            status=MerchantTransfer.Status.WAITING,
            amount__gt=0,
        )
        # Locked in one statement: a refund meanwhile waits, then finds them `sending`
        # (a part settling meanwhile is not among them: it waits for the next batch).
        locked = list(waiting.select_for_update().values_list("id", "amount"))
        ids = [part_id for part_id, _ in locked]
        amount, count = sum(part_amount for _, part_amount in locked), len(locked)
        if amount <= 0:
            return None
        try:
            with transaction.atomic():
                batch = MerchantTransferBatch.objects.create(
                    merchant_id=merchant_id,
                    stripe_account_id=account.stripe_account_id,
                    batch=batch_start,
                    currency=currency,
                    amount=amount,
                    sending_since=now,
                )
        except IntegrityError:
            return None  # another run wrote this period's batch meanwhile
        MerchantTransfer.objects.filter(id__in=ids).update(
            status=MerchantTransfer.Status.SENDING,
            batch_transfer=batch,
            stripe_account_id=account.stripe_account_id,
            sending_since=now,
        )
    logger.info(
        "Merchant transfer batch written",
        extra={"batch_id": str(batch.id), "merchant_id": str(merchant_id), "parts": count},
    )
    return batch


def _stale_claim(*, merchant_id: uuid.UUID, currency: str, now: datetime) -> uuid.UUID | None:
    """A batch of the merchant's left `sending` past the lease, claimed again (a
    conditional update: of two runs, one claims it)."""
    for batch_id in MerchantTransferBatch.objects.filter(
        merchant_id=merchant_id,
        currency=currency,
        status=MerchantTransferBatch.Status.SENDING,
        sending_since__lt=now - SENDING_LEASE,
    ).values_list("id", flat=True):
        if (
            MerchantTransferBatch.objects.filter(
                id=batch_id,
                status=MerchantTransferBatch.Status.SENDING,
                sending_since__lt=now - SENDING_LEASE,
            ).update(sending_since=now)
            == 1
        ):
            return batch_id
    return None


def merchant_batch_send(
    *, merchant_id: uuid.UUID, currency: str, now: datetime | None = None
) -> bool:
    """Send the merchant's batch (a stale one again, else this period's, made now):
    whether a Stripe transfer was recorded. Stripe unreachable is raised (the batch stays
    `sending`, asked again with the same key after the lease)."""
    now = now or timezone.now()
    batch_id = _stale_claim(merchant_id=merchant_id, currency=currency, now=now)
    if batch_id is None:
        made = transfer_batch_make(merchant_id=merchant_id, currency=currency, now=now)
        if made is None:
            return False
        batch_id = made.id
    batch = MerchantTransferBatch.objects.get(id=batch_id)
    try:
        stripe_transfer_id = stripe_api.transfer_create(
            transfer_key=f"batch-{batch.id}",
            amount=batch.amount,
            currency=batch.currency,
            destination=batch.stripe_account_id,
            transfer_group=f"merchant-batch-{batch.id}",
            metadata={
                "merchant_id": str(batch.merchant_id),
                "batch_id": str(batch.id),
                "batch": batch.batch.isoformat(),
                "orders": str(batch.parts.count()),
            },
        )
    except stripe_api.PaymentProviderRejected as error:
        _failed(batch.id, f"Stripe refused: {error}")
        return False
    except stripe_api.PaymentProviderUnavailable as error:
        MerchantTransferBatch.objects.filter(id=batch.id).update(
            last_failure=f"Stripe unreachable: {error}"[:300]
        )
        raise
    return _sent(batch.id, stripe_transfer_id)


def _failed(batch_id: uuid.UUID, reason: str) -> None:
    """Stripe refused: the batch is `failed` and its parts wait again (the next period's
    batch takes them)."""
    with transaction.atomic():
        batch = MerchantTransferBatch.objects.select_for_update().get(id=batch_id)
        if batch.status != MerchantTransferBatch.Status.SENDING:
            return
        batch.status = MerchantTransferBatch.Status.FAILED
        batch.last_failure = reason[:300]
        batch.save(update_fields=["status", "last_failure"])
        MerchantTransfer.objects.filter(
            batch_transfer=batch, status=MerchantTransfer.Status.SENDING
        ).update(
            status=MerchantTransfer.Status.WAITING,
            batch_transfer=None,
            sending_since=None,
            last_failure=reason[:300],
        )
    logger.warning(
        "Stripe refused a merchant transfer batch",
        extra={"batch_id": str(batch_id), "error": reason},
    )


def _sent(batch_id: uuid.UUID, stripe_transfer_id: str) -> bool:
    """Stripe made the transfer: the batch and its parts `sent`, each part's transfer
    posted, once (a second answer for the same batch records nothing)."""
    sent_at = timezone.now()
    with transaction.atomic():
        batch = MerchantTransferBatch.objects.select_for_update().get(id=batch_id)
        if batch.status != MerchantTransferBatch.Status.SENDING:
            return False
        batch.status = MerchantTransferBatch.Status.SENT
        batch.stripe_transfer_id = stripe_transfer_id
        batch.sent_at = sent_at
        batch.last_failure = ""
        batch.save(update_fields=["status", "stripe_transfer_id", "sent_at", "last_failure"])
        MerchantTransfer.objects.filter(
            batch_transfer=batch, status=MerchantTransfer.Status.SENDING
        ).update(
            status=MerchantTransfer.Status.SENT,
            stripe_transfer_id=stripe_transfer_id,
            sent_at=sent_at,
            last_failure="",
        )
        batch_transfers_post(batch_id=batch.id, at=sent_at)
    logger.info(
        "Merchant transfer batch sent",
        extra={"batch_id": str(batch_id), "stripe_transfer_id": stripe_transfer_id},
    )
    return True
