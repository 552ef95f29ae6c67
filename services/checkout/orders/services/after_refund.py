"""What a buyer's refund settles once Stripe has answered, in the refund's transaction
(the order locked): a received return becomes refunded, a cancel Stripe refused is undone."""

from __future__ import annotations

import logging

from django.db import transaction
from django.utils import timezone

from clipcart_shared.outbox.services import events_publish
from orders.events import order_return_closed_event
from orders.models import Order, OrderLine, OrderReturn, Refund
from orders.services.status import line_fulfilment_status, order_status_derive

logger = logging.getLogger(__name__)

# A refund a buyer's cancel made is created by "buyer:<user id>" (`orders.services.cancel`).
CANCEL_CREATOR_PREFIX = "buyer:"


def return_refunded_record(refund: Refund) -> None:
    """The refund of a received return succeeded: the return is refunded and closed
    (`order.return_closed`), and the buyer is told."""
    order_return = (
        OrderReturn.objects.select_for_update()
        .filter(refund=refund, status=OrderReturn.Status.RECEIVED)
        .first()
    )
    if order_return is None:
        return
    return_close(order_return, status=OrderReturn.Status.REFUNDED)


def return_close(order_return: OrderReturn, *, status: str) -> None:
    """Rejected or refunded: it holds no units any more; `order.return_closed`; the buyer
    emailed after the commit."""
    from orders.tasks import buyer_email

    order_return.status = status
    order_return.closed_at = timezone.now()
    order_return.save(update_fields=["status", "closed_at"])
    events_publish(events=[order_return_closed_event(order_return)])
    return_id = str(order_return.id)
    transaction.on_commit(lambda: buyer_email.delay("return_" + status, return_id))
    logger.info("Return closed", extra={"return_id": return_id, "status": status})


def cancel_undo(order: Order, refund: Refund) -> None:
    """Stripe refused the refund of a buyer's cancel: its units were not paid back, so
    they are not cancelled either (the order stays as it was)."""
    if not (refund.created_by.startswith(CANCEL_CREATOR_PREFIX) and refund.units):
        return
    lines = list(order.lines.filter(id__in=list(refund.units)))
    for line in lines:
        line.cancelled_quantity = max(line.cancelled_quantity - refund.units[str(line.id)], 0)
        line.fulfilment_status = line_fulfilment_status(line)
    OrderLine.objects.bulk_update(lines, ["cancelled_quantity", "fulfilment_status"])
    if order.status in Order.AFTER_PAYMENT:
        order.status = order_status_derive(order)
        order.save(update_fields=["status", "updated_at"])
    logger.warning("A cancel was undone: its refund failed", extra={"refund_id": str(refund.id)})
