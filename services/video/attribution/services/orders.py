"""What checkout's order events do here: `order.paid` records the lines and credits them,
`order.refunded` reverses the refunded share of every credit (or holds the refund until
its order is paid). All of it under the order's advisory lock (`order_lock`). Deliveries
and returns are `attribution.services.settlement`'s.
"""

from __future__ import annotations

import logging
import uuid
from collections import defaultdict
from datetime import datetime
from typing import Any

from django.db import transaction
from django.utils import timezone

from attribution.allocation import (
    commission,
)
from attribution.models import (
    Credit,
    RefundReceived,
    SaleLine,
)
from attribution.services.credits import MODELS, CreditRow, credits_insert, lines_attribute
from attribution.services.locks import event_time, order_lock
from attribution.services.settlement import order_settlement_refresh
from clipcart_shared.money import allocate
from clipcart_shared.pages import user_signals_bump

logger = logging.getLogger(__name__)


def _uuid(value: Any) -> uuid.UUID | None:
    return None if value is None else uuid.UUID(str(value))


def _sale_line(line: dict[str, Any], order: dict[str, Any], paid_at: datetime) -> SaleLine:
    """A line of `order.paid` as a row, with typed values (the COPY of its credits needs
    them)."""
    source = line.get("source") or {}
    video_id = _uuid(source.get("video_id"))
    # Checkouts before creator codes send none.
    creator_code = line.get("creator_code") or {}
    return SaleLine(
        line_id=uuid.UUID(str(line["line_id"])),
        order_id=uuid.UUID(str(order["order_id"])),
        user_id=order["user_id"],
        merchant_id=uuid.UUID(str(line["merchant_id"])),
        product_id=uuid.UUID(str(line["product_id"])),
        variant_id=uuid.UUID(str(line["variant_id"])),
        quantity=int(line["quantity"]),
        amount=int(line["amount"]),
        currency=order["currency"],
        paid_at=paid_at,
        source_video_id=video_id,
        source_tag_id=_uuid(source.get("tag_id")),
        # An older checkout sends no time: the line was added before payment, at the latest.
        source_added_at=event_time(source.get("added_at"), paid_at.isoformat())
        if video_id
        else None,
        code=creator_code.get("code") or "",
        code_creator_id=_uuid(creator_code.get("creator_id")),
    )


def order_paid_apply(envelope: dict[str, Any]) -> None:
    """Handler of checkout's `order.paid`: record each line, credit it under every model,
    then apply any refund of the order that arrived first."""
    data = envelope["data"]
    paid_at = event_time(data.get("paid_at"), envelope["time"])
    with transaction.atomic():
        order_lock(data["order_id"])
        candidates = [_sale_line(line, data, paid_at) for line in data["lines"]]
        known = set(
            SaleLine.objects.filter(line_id__in=[line.line_id for line in candidates]).values_list(
                "line_id", flat=True
            )
        )
        new_lines = [line for line in candidates if line.line_id not in known]
        SaleLine.objects.bulk_create(new_lines)
        # Their "for you" reads what they bought.
        user_signals_bump(user_ids=[line.user_id for line in new_lines])
        credits = lines_attribute(new_lines)
        held = refunds_held_apply(order_id=data["order_id"])
        # Deliveries and returns heard before the payment count now.
        settling = (
            order_settlement_refresh(order_id=data["order_id"], new_lines=True) if new_lines else 0
        )
    logger.info(
        "Order attributed",
        extra={
            "order_id": data["order_id"],
            "lines": len(new_lines),
            "credits": credits,
            "held_refunds_applied": held,
            "lines_delivered_before": settling,
        },
    )


def order_refunded_apply(envelope: dict[str, Any]) -> None:
    """Handler of checkout's `order.refunded`: reverse the refunded share of every credit,
    or hold the refund until its order's `order.paid` arrives."""
    data = envelope["data"]
    with transaction.atomic():
        order_lock(data["order_id"])
        refund, created = RefundReceived.objects.get_or_create(
            refund_id=uuid.UUID(str(data["refund_id"])),
            defaults={
                "order_id": uuid.UUID(str(data["order_id"])),
                "refunded_at": event_time(data.get("refunded_at"), envelope["time"]),
                "lines": data["lines"],
            },
        )
        if not created:
            logger.info("Refund already received", extra={"refund_id": data["refund_id"]})
            return
        if not SaleLine.objects.filter(order_id=data["order_id"]).exists():
            logger.info(
                "Refund held until its order is paid",
                extra={"refund_id": data["refund_id"], "order_id": data["order_id"]},
            )
            return
        reversals = refund_apply(refund)
    logger.info("Refund reversed", extra={"refund_id": data["refund_id"], "reversals": reversals})


def refunds_held_apply(*, order_id: uuid.UUID | str) -> int:
    """Apply the refunds of an order that were held, oldest first. Returns how many."""
    held = list(
        RefundReceived.objects.filter(order_id=order_id, applied_at__isnull=True).order_by(
            "refunded_at", "refund_id"
        )
    )
    for refund in held:
        refund_apply(refund)
    return len(held)


def refund_apply(refund: RefundReceived) -> int:
    """Add the reversing credits of one refund; the caller holds the order's lock.

    Per line and model, what remains after the refund is split over the sale's credits
    in proportion to them (largest remainder), and each credit is reversed down to its
    share: the reversals add up exactly to the refunded amount, and a full refund nets
    every credit and its commission to zero. Returns the number of reversing rows.
    """
    amounts: dict[uuid.UUID, int] = defaultdict(int)
    for line in refund.lines:
        amounts[uuid.UUID(str(line["line_id"]))] += int(line["amount"])
    by_line: dict[uuid.UUID, list[Credit]] = defaultdict(list)
    for credit in Credit.objects.filter(sale_line_id__in=list(amounts)).order_by(
        "model", "position", "occurred_at", "id"
    ):
        by_line[credit.sale_line_id].append(credit)
    reversals: list[CreditRow] = []
    for line_id, refunded in amounts.items():
        if line_id not in by_line:
            logger.warning(
                "Refund names a line that was never paid",
                extra={"refund_id": str(refund.refund_id), "line_id": str(line_id)},
            )
            continue
        reversals += _line_reversals(refund, by_line[line_id], refunded)
    credits_insert(reversals)
    refund.applied_at = timezone.now()
    refund.save(update_fields=["applied_at"])
    return len(reversals)


def _line_reversals(
    refund: RefundReceived, credits: list[Credit], refunded: int
) -> list[CreditRow]:
    reversals = []
    for model in MODELS:
        sales = [credit for credit in credits if credit.model == model and credit.refund_id is None]
        net_amount: dict[int, int] = defaultdict(int)
        net_commission: dict[int, int] = defaultdict(int)
        for credit in credits:
            if credit.model == model:
                net_amount[credit.position] += credit.amount
                net_commission[credit.position] += credit.commission_amount
        remaining = max(sum(net_amount.values()) - refunded, 0)
        if sum(sale.amount for sale in sales) > 0:
            targets = allocate(remaining, [sale.amount for sale in sales])
        else:
            targets = [0] * len(sales)
        for sale, target in zip(sales, targets, strict=True):
            amount = target - net_amount[sale.position]
            commission_amount = (
                commission(target, sale.commission_rate_bps) - net_commission[sale.position]
            )
            if amount == 0 and commission_amount == 0:
                continue
            reversals.append(
                (
                    sale.sale_line_id,
                    model,
                    sale.position,
                    refund.refund_id,
                    sale.video_id,
                    sale.creator_id,
                    sale.touch_type,
                    sale.touched_at,
                    sale.merchant_id,
                    sale.product_id,
                    sale.currency,
                    amount,
                    sale.commission_rate_bps,
                    commission_amount,
                    refund.refunded_at,
                    sale.paid_at,
                    sale.is_self_purchase,
                )
            )
    return reversals
