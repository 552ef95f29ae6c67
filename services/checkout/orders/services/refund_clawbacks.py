"""The commission a refund after settlement takes back from creators (ADR 38): what
video's reversing credits of that refund took from the part's lines, under the
merchant's model — asked of video (`GET /internal/v1/commissions/`, its `refunds`) once
it has applied the refund, as the settlement asks it the commission. Checkout's
`creator_commission_payable` then falls by exactly what video's creator balances fall
by, and the merchant's share of the refund (taken from its transfer) is the refund's
share less the fee given back less that commission."""

from __future__ import annotations

import logging
import uuid

from django.db import transaction
from django.utils import timezone

from clipcart_shared.sweeps.services import rows_backed_off
from core import video
from orders.services.ledger import commission_clawback_post
from orders.services.status import order_locked
from payments.models import MerchantTransfer, SettledPartRefund

logger = logging.getLogger(__name__)

CLAWBACK_TASK = "orders.refund_commission_take_back"


def clawbacks_due(*, limit: int = 500) -> list[uuid.UUID]:
    """Refunds of settled parts whose commission is not taken back yet, oldest first."""
    return list(
        SettledPartRefund.objects.filter(commission_amount__isnull=True)
        .exclude(id__in=rows_backed_off(task=CLAWBACK_TASK))
        .order_by("created_at", "id")
        .values_list("id", flat=True)[:limit]
    )


def refund_commission_take_back(*, row_id: uuid.UUID) -> bool:
    """Take back, once, the commission video clawed back for one refund of a settled
    part, and the merchant's share from its transfer. False when done already or when
    video has not applied the refund yet (the next sweep asks again). Raises
    `video.VideoUnavailable` (the sweep backs the row off)."""
    row = SettledPartRefund.objects.select_related("transfer").get(id=row_id)
    if row.commission_amount is not None:
        return False
    answer = video.order_commission(
        order_id=row.transfer.order_id, merchant_id=row.transfer.merchant_id
    )
    refund_id = str(row.refund_id)
    if refund_id not in set(answer.get("refund_ids") or []) or "refunds" not in answer:
        logger.info(
            "Commission clawback waits for video to apply the refund",
            extra={"refund_id": refund_id, "order_id": str(row.transfer.order_id)},
        )
        return False
    reversed_commission = -int(answer["refunds"].get(refund_id, 0))
    with transaction.atomic():
        order_locked(row.transfer.order_id)
        row = SettledPartRefund.objects.select_for_update().get(id=row_id)
        if row.commission_amount is not None:
            return False  # taken back by another sweep meanwhile
        transfer = MerchantTransfer.objects.select_for_update().get(id=row.transfer_id)
        taken = sum(
            other.commission_amount or 0 for other in transfer.refunds_after.exclude(id=row.id)
        )
        # Never more than the part still owes creators, nor than the merchant's share.
        row.commission_amount = max(
            min(
                reversed_commission,
                transfer.commission_amount - taken,
                row.share_amount - row.fee_amount,
            ),
            0,
        )
        row.clawed_back_at = timezone.now()
        row.save(update_fields=["commission_amount", "clawed_back_at"])
        commission_clawback_post(row, transfer)
    if row.commission_amount != reversed_commission:
        logger.warning(
            "Commission clawback capped: checkout and video will differ",
            extra={"refund_id": refund_id, "video": reversed_commission},
        )
    logger.info(
        "Commission clawed back for a refund after settlement",
        extra={"refund_id": refund_id, "commission": row.commission_amount},
    )
    return True
