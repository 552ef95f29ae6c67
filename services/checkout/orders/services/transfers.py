"""Money out to merchants (separate charges and transfers, ADR 30). A merchant's part of
an order *settles* when all its lines are delivered (refunded units count out, as in
ADR 26), the latest return window after those deliveries has closed, no return of it is
open, no refund of the order is pending and the order is not disputed. The sweep
(`merchant_transfers_sweep`, on beat) then, part by part and each on its own:

1. settles it: asks video the creators' commission on its lines (service credential; no
   lock held meanwhile), then under the order's lock writes its `MerchantTransfer` (one
   per order and merchant: a unique constraint) and posts the settlement — gross (lines
   and shipping less refunds) = platform fee (bps) + commission + what the merchant gets;
2. takes back, for each refund after settlement that video has applied, the commission
   video clawed back for it, and the merchant's share from its transfer (ADR 38,
   `orders.services.refund_clawbacks`) — before the batches, so a waiting part goes out
   less it;
3. pays each merchant whose payout account is enabled its settled parts waiting, in
   batches: one Stripe transfer per (account, batch period, currency), ADR 38
   (`orders.services.transfer_batches`);
4. sends the reversals that refunds after a transfer left (`orders.services.ledger`)."""

from __future__ import annotations

import logging
import uuid
from datetime import datetime

from django.conf import settings
from django.db import transaction
from django.db.models import Exists, Max, OuterRef
from django.utils import timezone

from clipcart_shared.sweeps.services import rows_backed_off, rows_each
from core import video
from orders.models import MerchantPolicy, Order, OrderLine, OrderReturn, Refund
from orders.services.ledger import (
    fee_of,
    refund_merchant_shares,
    reversal_post,
    settlement_post,
)
from orders.services.refund_clawbacks import (
    CLAWBACK_TASK,
    clawbacks_due,
    refund_commission_take_back,
)
from orders.services.status import order_locked
from orders.services.transfer_batches import batches_due, merchant_batch_send
from orders.services.units import units_refunded
from payments import stripe_api
from payments.ledger import account_balance
from payments.models import (
    LedgerAccount,
    MerchantTransfer,
    TransferReversal,
)

logger = logging.getLogger(__name__)

SETTLE_TASK = "orders.merchant_part_settle"
SEND_TASK = "orders.merchant_batch_send"
REVERSE_TASK = "orders.transfer_reversal_send"
SETTLEABLE_STATUSES = (*Order.AFTER_PAYMENT, Order.Status.REFUNDED)


def merchant_fee_bps(merchant_id: uuid.UUID) -> int:
    """The merchant's platform fee: its policy's rate, else `PLATFORM_FEE_BPS`."""
    rate = (
        MerchantPolicy.objects.filter(merchant_id=merchant_id)
        .values_list("platform_fee_bps", flat=True)
        .first()
    )
    return int(settings.PLATFORM_FEE_BPS if rate is None else rate)


def part_settles(order: Order, lines: list[OrderLine], *, now: datetime) -> bool:
    """Whether the merchant's `lines` of the (read) order have settled by `now`."""
    if order.status not in SETTLEABLE_STATUSES or order.is_disputed or order.paid_at is None:
        return False
    closes = []
    for line in lines:
        refunded_units = units_refunded(line)
        if line.delivered_quantity + refunded_units < line.quantity:
            return False
        if line.delivered_quantity and line.returns_close_at is None:
            return False
        if line.returns_close_at is not None:
            closes.append(line.returns_close_at)
    if not closes or max(closes) > now:
        return False
    merchant_id = lines[0].merchant_id
    if OrderReturn.objects.filter(
        order=order, merchant_id=merchant_id, status__in=OrderReturn.OPEN
    ).exists():
        return False
    return not order.refunds.filter(status=Refund.Status.PENDING).exists()


def parts_due(*, now: datetime, limit: int = 500) -> list[tuple[uuid.UUID, uuid.UUID]]:
    """(order, merchant) of paid parts whose latest return window has closed and that
    have no transfer yet, oldest window first; `part_settles` has the last word."""
    transferred = MerchantTransfer.objects.filter(
        order_id=OuterRef("order_id"), merchant_id=OuterRef("merchant_id")
    )
    rows = (
        OrderLine.objects.filter(order__status__in=SETTLEABLE_STATUSES)
        .values("order_id", "merchant_id")
        .annotate(closes=Max("returns_close_at"))
        .filter(closes__lte=now)
        .filter(~Exists(transferred))
        .order_by("closes", "order_id", "merchant_id")
    )
    backed_off = set(rows_backed_off(task=SETTLE_TASK))
    due = [(row["order_id"], row["merchant_id"]) for row in rows[: limit + len(backed_off)]]
    return [part for part in due if _part_key(part) not in backed_off][:limit]


def _part_key(part: tuple[uuid.UUID, uuid.UUID]) -> str:
    return f"{part[0]}:{part[1]}"


def _due_key(due: tuple[uuid.UUID, str]) -> str:
    return f"{due[0]}:{due[1]}"


def _batches_not_backed_off(*, now: datetime) -> list[tuple[uuid.UUID, str]]:
    backed_off = set(rows_backed_off(task=SEND_TASK))
    return [due for due in batches_due(now=now) if _due_key(due) not in backed_off]


def merchant_part_settle(
    *, order_id: uuid.UUID, merchant_id: uuid.UUID, now: datetime | None = None
) -> MerchantTransfer | None:
    """Settle one merchant part if it has settled: its transfer written and the
    settlement posted, once. None when it has not settled, was settled already, or video
    does not know all of it yet (a line's `order.paid`, a refund not applied there): the
    next sweep asks again. Raises `video.VideoUnavailable` (the sweep backs the part off)."""
    now = now or timezone.now()
    order = Order.objects.get(id=order_id)
    lines = list(order.lines.filter(merchant_id=merchant_id))
    if not lines or not part_settles(order, lines, now=now):
        return None
    commission = video.order_commission(order_id=order_id, merchant_id=merchant_id)
    with transaction.atomic():
        order = order_locked(order_id)
        existing = MerchantTransfer.objects.filter(
            order_id=order_id, merchant_id=merchant_id
        ).first()
        if existing is not None:
            return None  # settled by another sweep meanwhile
        lines = list(order.lines.filter(merchant_id=merchant_id))
        if not part_settles(order, lines, now=now):
            return None
        refunds = _refunds_touching(order, merchant_id)
        known = set(commission.get("lines") or {})
        if not {str(line.id) for line in lines} <= known or not refunds <= set(
            commission.get("refund_ids") or []
        ):
            logger.info(
                "Settlement waits for video to hear of the whole part",
                extra={"order_id": str(order_id), "merchant_id": str(merchant_id)},
            )
            return None
        pending = account_balance(
            account=LedgerAccount.MERCHANT_PENDING, merchant_id=merchant_id, order_id=order_id
        )
        gross = -pending.get(order.currency.upper(), 0)
        rate = merchant_fee_bps(merchant_id)
        fee = fee_of(gross, rate)
        owed = sum(max(int(commission["lines"][str(line.id)]), 0) for line in lines)
        commission_amount = min(owed, gross - fee)
        amount = gross - fee - commission_amount
        transfer = MerchantTransfer.objects.create(
            order_id=order_id,
            merchant_id=merchant_id,
            currency=order.currency.upper(),
            gross_amount=gross,
            fee_rate_bps=rate,
            fee_amount=fee,
            commission_amount=commission_amount,
            amount=amount,
            status=MerchantTransfer.Status.WAITING if amount else MerchantTransfer.Status.NOTHING,
        )
        settlement_post(transfer)
    logger.info(
        "Merchant part settled",
        extra={
            "order_id": str(order_id),
            "merchant_id": str(merchant_id),
            "gross": gross,
            "fee": fee,
            "commission": commission_amount,
            "amount": amount,
        },
    )
    return transfer


def _refunds_touching(order: Order, merchant_id: uuid.UUID) -> set[str]:
    """The ids of the order's succeeded refunds that gave back some of the merchant's
    part (video must have applied them for its commission to be net of them)."""
    return {
        str(refund.id)
        for refund in order.refunds.filter(status=Refund.Status.SUCCEEDED)
        if merchant_id in refund_merchant_shares(order, refund)
    }


def reversals_sendable(*, limit: int = 500) -> list[uuid.UUID]:
    return list(
        TransferReversal.objects.filter(
            status=TransferReversal.Status.PENDING,
            transfer__status=MerchantTransfer.Status.SENT,
        )
        .exclude(id__in=rows_backed_off(task=REVERSE_TASK))
        .order_by("created_at", "id")
        .values_list("id", flat=True)[:limit]
    )


def transfer_reversal_send(*, reversal_id: uuid.UUID) -> bool:
    """Reverse a refund's share of a sent transfer at Stripe (keyed by the reversal's id,
    so a repeat or a concurrent sweep reverses once) and post it. Whether it was
    recorded now. Stripe's errors are raised (the sweep backs the row off)."""
    reversal = TransferReversal.objects.select_related("transfer").get(id=reversal_id)
    transfer = reversal.transfer
    if reversal.status != TransferReversal.Status.PENDING or not transfer.stripe_transfer_id:
        return False
    try:
        stripe_reversal_id = stripe_api.transfer_reversal_create(
            transfer_id=transfer.stripe_transfer_id,
            amount=reversal.amount,
            reversal_key=str(reversal.id),
            metadata={"refund_id": str(reversal.refund_id), "reversal_id": str(reversal.id)},
        )
    except stripe_api.PaymentProviderRejected as error:
        TransferReversal.objects.filter(id=reversal_id).update(
            last_failure=f"Stripe refused: {error}"[:300]
        )
        raise
    with transaction.atomic():
        order_locked(transfer.order_id)
        reversal = (
            TransferReversal.objects.select_for_update()
            .select_related("transfer")
            .get(id=reversal_id)
        )
        if reversal.status != TransferReversal.Status.PENDING:
            return False
        reversal.status = TransferReversal.Status.SENT
        reversal.stripe_reversal_id = stripe_reversal_id
        reversal.sent_at = timezone.now()
        reversal.last_failure = ""
        reversal.save(update_fields=["status", "stripe_reversal_id", "sent_at", "last_failure"])
        transfer = MerchantTransfer.objects.select_for_update().get(id=reversal.transfer_id)
        transfer.reversed_amount += reversal.amount
        transfer.save(update_fields=["reversed_amount"])
        reversal_post(reversal)
    logger.info(
        "Transfer reversal sent",
        extra={"reversal_id": str(reversal_id), "stripe_reversal_id": stripe_reversal_id},
    )
    return True


def merchant_transfers_sweep(*, now: datetime | None = None) -> dict[str, int]:
    """Settle what has settled, send what can be sent, reverse what refunds took back;
    each row on its own (one that fails is logged and backed off, the others go on).
    Returns how many of each it did."""
    now = now or timezone.now()
    settled = rows_each(
        task=SETTLE_TASK,
        rows=parts_due(now=now),
        handle=lambda part: merchant_part_settle(order_id=part[0], merchant_id=part[1], now=now),
        key=_part_key,
    )
    rows_each(
        task=CLAWBACK_TASK,
        rows=clawbacks_due(),
        handle=lambda row_id: refund_commission_take_back(row_id=row_id),
    )
    sent = rows_each(
        task=SEND_TASK,
        rows=_batches_not_backed_off(now=now),
        handle=lambda due: merchant_batch_send(merchant_id=due[0], currency=due[1], now=now),
        key=_due_key,
    )
    reversed_ = rows_each(
        task=REVERSE_TASK,
        rows=reversals_sendable(),
        handle=lambda reversal_id: transfer_reversal_send(reversal_id=reversal_id),
    )
    return {
        "settled": sum(1 for transfer in settled if transfer is not None),
        "sent": sum(1 for was_sent in sent if was_sent),
        "reversed": sum(1 for was_reversed in reversed_ if was_reversed),
    }
