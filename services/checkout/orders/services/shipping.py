"""Shipping: a merchant puts units of its own lines of a paid order in a parcel
(`shipment_create`), and the parcel is delivered (`shipment_deliver`: by the merchant, by
the carrier's tracking webhook, or by the timeout sweep `shipments_auto_deliver`). Each
change runs under the order's lock, with bulk writes (a constant number of queries
whatever the number of lines), and commits with its outbox event."""

from __future__ import annotations

import logging
import uuid
from collections.abc import Sequence
from datetime import datetime, timedelta
from urllib.parse import urlsplit

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from clipcart_shared.errors import ApplicationError
from clipcart_shared.outbox.services import events_publish
from clipcart_shared.sweeps.services import rows_backed_off, rows_each
from core.errors import CheckoutErrorCode
from orders.events import order_delivered_event, order_shipped_event
from orders.models import MerchantPolicy, Order, OrderLine, Shipment, ShipmentLine
from orders.services.status import line_fulfilment_status, order_locked, order_status_derive

logger = logging.getLogger(__name__)

AUTO_DELIVER_TASK = "orders.shipments_auto_deliver"
LINE_COUNT_FIELDS = [
    "shipped_quantity",
    "delivered_quantity",
    "fulfilment_status",
    "delivered_at",
    "returns_close_at",
]


def tracking_url_check(tracking_url: str) -> str:
    """The URL as given when it is empty or an absolute http(s) URL with a host; 422
    `invalid_tracking_url` otherwise (it is shown to buyers as a link: no `javascript:`)."""
    tracking_url = tracking_url.strip()
    if not tracking_url:
        return ""
    parts = urlsplit(tracking_url)
    if parts.scheme not in ("http", "https") or not parts.hostname or len(tracking_url) > 500:
        raise ApplicationError(
            CheckoutErrorCode.INVALID_TRACKING_URL,
            "The tracking URL must be an http(s) URL of at most 500 characters.",
            status=422,
        )
    return tracking_url


def _shipment_input_check(carrier: str, tracking_number: str, lines: Sequence[tuple]) -> None:
    problems = []
    if not carrier.strip() or len(carrier) > 60:
        problems.append("a carrier of 1 to 60 characters")
    if not tracking_number.strip() or len(tracking_number) > 100:
        problems.append("a tracking number of 1 to 100 characters")
    if not lines:
        problems.append("at least one line")
    if any(not isinstance(quantity, int) or quantity < 1 for _, quantity in lines):
        problems.append("a quantity of at least 1 on every line")
    if len({line_id for line_id, _ in lines}) != len(lines):
        problems.append("each line once")
    if problems:
        raise ApplicationError(
            CheckoutErrorCode.INVALID_SHIPMENT,
            "A shipment needs " + ", ".join(problems) + ".",
            status=422,
        )


def shipment_create(
    *,
    order_id: uuid.UUID,
    merchant_id: uuid.UUID,
    carrier: str,
    tracking_number: str,
    tracking_url: str,
    lines: Sequence[tuple[uuid.UUID, int]],
    created_by: str,
) -> Shipment:
    """Ship units of `merchant_id`'s lines of a paid order: the shipment recorded, the
    lines' shipped counts and the order's status moved on, `order.shipped` published, in
    one transaction under the order's lock (two shipments of the same units at once: the
    second sees the first's counts). 404 `not_found` for an order holding none of the
    merchant's lines, 404 `line_not_found` for a line not the merchant's (or not the
    order's), 409 `order_not_shippable` for an unpaid, cancelled or refunded order, 422
    `quantity_exceeds_unshipped` for more units than are left to ship (bought, less
    cancelled, less shipped), 422 `invalid_tracking_url` / `invalid_shipment`."""
    _shipment_input_check(carrier, tracking_number, lines)
    tracking_url = tracking_url_check(tracking_url)
    with transaction.atomic():
        try:
            order = order_locked(order_id)
        except Order.DoesNotExist as error:
            raise _order_not_found() from error
        order_lines = list(order.lines.all())
        own = {line.id: line for line in order_lines if line.merchant_id == merchant_id}
        if not own:
            raise _order_not_found()
        unknown = [str(line_id) for line_id, _ in lines if line_id not in own]
        if unknown:
            raise ApplicationError(
                CheckoutErrorCode.LINE_NOT_FOUND,
                "These lines are not yours on this order: " + ", ".join(unknown) + ".",
                status=404,
            )
        if order.status not in Order.AFTER_PAYMENT:
            raise ApplicationError(
                CheckoutErrorCode.ORDER_NOT_SHIPPABLE,
                f"The order is {order.status}; only paid orders are shipped.",
                status=409,
            )
        errors = []
        for line_id, quantity in lines:
            line = own[line_id]
            left = line.quantity - line.cancelled_quantity - line.shipped_quantity
            if quantity > left:
                errors.append(
                    {
                        "field": f"lines.{line_id}",
                        "code": CheckoutErrorCode.QUANTITY_EXCEEDS_UNSHIPPED.value,
                        "message": f"{left} unit(s) left to ship.",
                    }
                )
        if errors:
            raise ApplicationError(
                CheckoutErrorCode.QUANTITY_EXCEEDS_UNSHIPPED,
                "More units than are left to ship.",
                status=422,
                errors=errors,
            )
        shipment = Shipment.objects.create(
            order=order,
            merchant_id=merchant_id,
            carrier=carrier.strip(),
            tracking_number=tracking_number.strip(),
            tracking_url=tracking_url,
            shipped_at=timezone.now(),
            created_by=created_by[:160],
        )
        ShipmentLine.objects.bulk_create(
            [
                ShipmentLine(shipment=shipment, line_id=line_id, quantity=quantity)
                for line_id, quantity in lines
            ]
        )
        for line_id, quantity in lines:
            line = own[line_id]
            line.shipped_quantity += quantity
            line.fulfilment_status = line_fulfilment_status(line)
        OrderLine.objects.bulk_update([own[line_id] for line_id, _ in lines], LINE_COUNT_FIELDS)
        _status_save(order, order_lines)
        events_publish(events=[order_shipped_event(shipment)])
    logger.info(
        "Shipment created",
        extra={"order_id": str(order_id), "shipment_id": str(shipment.id), "by": created_by},
    )
    return shipment


def shipment_deliver(*, shipment_id: uuid.UUID, by: str, at: datetime | None = None) -> Shipment:
    """Mark a shipment delivered (`by` merchant, carrier or timeout), once: its lines'
    delivered counts, their last delivery and its return window (the merchant's policy
    now), the order's status, `order.delivered` published. A delivered shipment is
    returned unchanged (idempotent: a replayed webhook, a second click)."""
    at = at or timezone.now()
    shipment = Shipment.objects.filter(id=shipment_id).only("order_id").first()
    if shipment is None:
        raise ApplicationError(
            CheckoutErrorCode.SHIPMENT_NOT_FOUND, "No such shipment.", status=404
        )
    with transaction.atomic():
        order = order_locked(shipment.order_id)
        shipment = Shipment.objects.prefetch_related("lines").get(id=shipment_id)
        if shipment.status == Shipment.Status.DELIVERED:
            return shipment
        window = _return_window(shipment.merchant_id)
        shipment.status = Shipment.Status.DELIVERED
        shipment.delivered_at = at
        shipment.delivered_by = by
        shipment.returns_close_at = at + window
        shipment.save(update_fields=["status", "delivered_at", "delivered_by", "returns_close_at"])
        order_lines = list(order.lines.all())
        by_id = {line.id: line for line in order_lines}
        changed = []
        for shipment_line in shipment.lines.all():
            line = by_id[shipment_line.line_id]
            line.delivered_quantity += shipment_line.quantity
            line.delivered_at = at
            line.returns_close_at = shipment.returns_close_at
            line.fulfilment_status = line_fulfilment_status(line)
            changed.append(line)
        OrderLine.objects.bulk_update(changed, LINE_COUNT_FIELDS)
        _status_save(order, order_lines)
        events_publish(events=[order_delivered_event(shipment)])
    logger.info("Shipment delivered", extra={"shipment_id": str(shipment_id), "delivered_by": by})
    return shipment


def shipment_tracking_update(*, shipment_id: uuid.UUID, status: str, at: datetime) -> bool:
    """The carrier's `in_transit` or `exception` on a shipment not yet delivered, when
    newer than what it said before. Returns whether it changed anything."""
    changed = (
        Shipment.objects.filter(id=shipment_id)
        .exclude(status=Shipment.Status.DELIVERED)
        .exclude(tracking_updated_at__gte=at)
        .update(status=status, tracking_updated_at=at)
    )
    return bool(changed)


def shipments_auto_deliver(*, batch_size: int = 500) -> int:
    """Deliver (`by=timeout`) shipments still undelivered `FULFILMENT_AUTO_DELIVER_DAYS`
    after shipping, each on its own: one that fails is logged and backed off, the others
    still delivered. Returns how many it delivered."""
    due = (
        Shipment.objects.exclude(status=Shipment.Status.DELIVERED)
        .filter(
            shipped_at__lt=timezone.now() - timedelta(days=settings.FULFILMENT_AUTO_DELIVER_DAYS)
        )
        .exclude(id__in=rows_backed_off(task=AUTO_DELIVER_TASK))
        .order_by("shipped_at")
        .values_list("id", flat=True)
    )
    delivered = rows_each(
        task=AUTO_DELIVER_TASK,
        rows=list(due[:batch_size]),
        handle=lambda shipment_id: shipment_deliver(
            shipment_id=shipment_id, by=Shipment.DeliveredBy.TIMEOUT
        ),
    )
    return len(delivered)


def _status_save(order: Order, lines: list[OrderLine]) -> None:
    status = order_status_derive(order, lines)
    if status != order.status:
        order.status = status
        order.save(update_fields=["status", "updated_at"])


def _order_not_found() -> ApplicationError:
    return ApplicationError("not_found", "No such order.", status=404)


def _return_window(merchant_id: uuid.UUID) -> timedelta:
    """How long after delivery the merchant takes returns: its policy's days (the
    default policy's without a row), or `RETURN_WINDOW_SECONDS` where a demo sets it."""
    if settings.RETURN_WINDOW_SECONDS:
        return timedelta(seconds=settings.RETURN_WINDOW_SECONDS)
    policy = MerchantPolicy.objects.filter(merchant_id=merchant_id).first()
    return timedelta(days=(policy or MerchantPolicy()).return_window_days)
