"""Units paid back go back on the shelf: checkout's own `order.refunded` (on
`checkout.events`) restocks a refund's `units` in catalog when it says so — a buyer's
cancel, a received return ticked "restock", staff's "restock these units". Catalog
applies each key once, so a redelivered event or a retried call never restocks twice."""

from __future__ import annotations

import logging
from typing import Any

from core import catalog
from orders.models import OrderLine, OrderReturn, Refund

logger = logging.getLogger(__name__)


def refund_restock_key(refund: Refund) -> str:
    """A return's restock is keyed by the return, any other by the refund."""
    order_return = OrderReturn.objects.filter(refund=refund).only("id").first()
    return f"return-{order_return.id}" if order_return else f"refund-{refund.id}"


def refund_restock(envelope: dict[str, Any]) -> None:
    """The worker's part of `order.refunded`: the refund's units back to stock, if any."""
    refund = Refund.objects.filter(id=envelope["data"]["refund_id"]).first()
    if refund is None or refund.status != Refund.Status.SUCCEEDED:
        return
    if not (refund.restock and refund.units):
        return
    lines = [
        (line.variant_id, refund.units[str(line.id)])
        for line in OrderLine.objects.filter(id__in=list(refund.units)).order_by("id")
        if refund.units[str(line.id)] > 0
    ]
    if not lines:
        return
    key = refund_restock_key(refund)
    catalog.stock_restock(
        key=key,
        lines=lines,
        reason="returned" if key.startswith("return-") else "refunded",
        order_id=refund.order_id,
    )
    logger.info("Refunded units restocked", extra={"refund_id": str(refund.id), "key": key})
