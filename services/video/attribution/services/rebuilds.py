"""Rebuilds: credits recomputed for a range of days (`attribution_recompute`), and the
order events that never arrived applied from checkout's order-events API
(`attribution_reconcile`: payments and refunds, then deliveries and returns).
"""

from __future__ import annotations

import logging
import uuid
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from typing import Any

from django.db import transaction
from django.utils import timezone

from attribution.models import (
    CreditTouch,
    DeliveryReceived,
    RefundReceived,
    ReturnReceived,
    SaleLine,
)
from attribution.services.credits import lines_attribute
from attribution.services.locks import order_lock
from attribution.services.orders import (
    order_paid_apply,
    order_refunded_apply,
    refund_apply,
)
from attribution.services.settlement import (
    order_delivered_apply,
    order_return_closed_apply,
    order_return_requested_apply,
)
from clipcart_shared.sweeps.services import rows_backed_off, rows_each
from core.checkout import OrderEventTypeUnknown, order_events

logger = logging.getLogger(__name__)


def attribution_recompute(*, start: date, end: date) -> int:
    """Rebuild the credits of the orders paid from `start` to `end` (UTC days, both
    included) from the same inputs: their lines, the touches, today's windows and rates,
    and the refunds applied so far. One transaction per order. Returns the orders."""
    since = datetime.combine(start, time.min, tzinfo=UTC)
    until = datetime.combine(end + timedelta(days=1), time.min, tzinfo=UTC)
    order_ids = list(
        SaleLine.objects.filter(paid_at__gte=since, paid_at__lt=until)
        .values_list("order_id", flat=True)
        .distinct()
        .order_by("order_id")
    )
    for order_id in order_ids:
        with transaction.atomic():
            order_lock(order_id)
            lines = list(SaleLine.objects.filter(order_id=order_id))
            CreditTouch.objects.filter(sale_line__in=lines).delete()
            lines_attribute(lines)
            for refund in RefundReceived.objects.filter(
                order_id=order_id, applied_at__isnull=False
            ).order_by("refunded_at", "refund_id"):
                refund_apply(refund)
    logger.info("Attribution recomputed", extra={"orders": len(order_ids)})
    return len(order_ids)


_RECONCILE_BATCH = 100


def _batches(items: Iterable[dict[str, Any]]) -> Iterable[list[dict[str, Any]]]:
    batch: list[dict[str, Any]] = []
    for item in items:
        batch.append(item)
        if len(batch) == _RECONCILE_BATCH:
            yield batch
            batch = []
    if batch:
        yield batch


def _envelope(event: dict[str, Any], time_field: str) -> dict[str, Any]:
    """An event as checkout's order-events API serves it, shaped like the delivered
    envelope the handlers read (`data`, and `time` as the fallback time)."""
    return {
        "type": event["type"],
        "subject": event["subject"],
        "time": event["data"].get(time_field) or timezone.now().isoformat(),
        "data": event["data"],
    }


RECONCILE_PAID_TASK = "attribution.reconcile.paid"
RECONCILE_REFUND_TASK = "attribution.reconcile.refunded"


def _lost_paid_apply(event: dict[str, Any]) -> None:
    logger.warning(
        "Lost order.paid recovered by reconciliation",
        extra={"order_id": event["data"]["order_id"]},
    )
    order_paid_apply(_envelope(event, "paid_at"))


def _lost_refund_apply(event: dict[str, Any]) -> None:
    logger.warning(
        "Lost order.refunded recovered by reconciliation",
        extra={"order_id": event["data"]["order_id"], "refund_id": event["data"]["refund_id"]},
    )
    order_refunded_apply(_envelope(event, "refunded_at"))


# The after-payment types: each names one event by an id of its data (`id_field`), tells
# which of a batch's ids were received already (`known`), and is applied by `handle`.
def _deliveries_known(ids: set[uuid.UUID]) -> set[uuid.UUID]:
    return set(
        DeliveryReceived.objects.filter(shipment_id__in=ids).values_list("shipment_id", flat=True)
    )


def _returns_known(ids: set[uuid.UUID]) -> set[uuid.UUID]:
    return set(ReturnReceived.objects.filter(return_id__in=ids).values_list("return_id", flat=True))


def _returns_closed_known(ids: set[uuid.UUID]) -> set[uuid.UUID]:
    return set(
        ReturnReceived.objects.filter(return_id__in=ids, closed_at__isnull=False).values_list(
            "return_id", flat=True
        )
    )


@dataclass(frozen=True)
class _AfterPaid:
    type: str
    count: str
    id_field: str
    handle: Callable[[dict[str, Any]], None]
    known: Callable[[set[uuid.UUID]], set[uuid.UUID]]

    @property
    def task(self) -> str:
        return f"attribution.reconcile.{self.type.removeprefix('order.')}"

    def apply(self, event: dict[str, Any]) -> None:
        logger.warning(
            "Lost %s recovered by reconciliation",
            self.type,
            extra={
                "order_id": event["data"]["order_id"],
                self.id_field: event["data"][self.id_field],
            },
        )
        self.handle(_envelope(event, "at"))


AFTER_PAID = (
    _AfterPaid(
        "order.delivered", "delivered", "shipment_id", order_delivered_apply, _deliveries_known
    ),
    _AfterPaid(
        "order.return_requested",
        "returns_requested",
        "return_id",
        order_return_requested_apply,
        _returns_known,
    ),
    _AfterPaid(
        "order.return_closed",
        "returns_closed",
        "return_id",
        order_return_closed_apply,
        _returns_closed_known,
    ),
)


def _after_paid_reconcile(
    kind: _AfterPaid, *, since: datetime, until: datetime, counts: dict[str, int]
) -> None:
    """The lost events of one after-payment type, applied; a checkout that does not
    list the type yet (400) is logged and skipped."""
    backed_off = set(rows_backed_off(task=kind.task))
    try:
        for batch in _batches(order_events(type=kind.type, since=since, until=until)):
            known = {
                str(key)
                for key in kind.known(
                    {uuid.UUID(str(event["data"][kind.id_field])) for event in batch}
                )
            }
            counts[kind.count] += len(batch)
            counts[f"{kind.count}_applied"] += len(
                rows_each(
                    task=kind.task,
                    rows=[
                        event
                        for event in batch
                        if str(uuid.UUID(str(event["data"][kind.id_field]))) not in known
                        and str(event["data"][kind.id_field]) not in backed_off
                    ],
                    handle=kind.apply,
                    key=lambda event: str(event["data"][kind.id_field]),
                )
            )
    except OrderEventTypeUnknown:
        logger.warning(
            "Checkout does not list these events yet; not reconciled",
            extra={"event_type": kind.type},
        )


def attribution_reconcile(*, since: datetime, until: datetime) -> dict[str, int]:
    """Apply the order events of [since, until) that never arrived: `order.paid`,
    `order.refunded`, then `order.delivered`, `order.return_requested` and
    `order.return_closed`.

    A delivery can be lost (a worker killed while it holds the message: the embedded
    broker never makes it visible again). Checkout's order-events API lists the payloads
    it published; a paid order with a line missing from `SaleLine`, or a refund missing
    from `RefundReceived`, is applied through the very handlers the events run
    (`order_paid_apply`, `order_refunded_apply`): under the order's lock and unique by the
    database, so the real event arriving at the same time or later changes nothing.
    Payments first, so a recovered refund finds its sale (deliveries and returns end
    the same in any order). A delivery or return is lost when its shipment or return is
    not received (a close, when its return is not closed here). Raises `CheckoutUnavailable`
    when checkout cannot answer (what was applied before stays applied). Each lost event
    is applied on its own: one that fails is logged and backed off, the others applied.
    Returns counts: `paid` / `refunds` seen, `paid_applied` / `refunds_applied`, and the
    same for `delivered`, `returns_requested`, `returns_closed`.
    """
    counts = {"paid": 0, "paid_applied": 0, "refunds": 0, "refunds_applied": 0}
    for kind in AFTER_PAID:
        counts |= {kind.count: 0, f"{kind.count}_applied": 0}
    paid_backed_off = set(rows_backed_off(task=RECONCILE_PAID_TASK))
    refunds_backed_off = set(rows_backed_off(task=RECONCILE_REFUND_TASK))
    for batch in _batches(order_events(type="order.paid", since=since, until=until)):
        line_ids = {
            uuid.UUID(str(line["line_id"])) for event in batch for line in event["data"]["lines"]
        }
        known = set(SaleLine.objects.filter(line_id__in=line_ids).values_list("line_id", flat=True))
        missing = []
        for event in batch:
            counts["paid"] += 1
            lines = {uuid.UUID(str(line["line_id"])) for line in event["data"]["lines"]}
            if not lines <= known and str(event["data"]["order_id"]) not in paid_backed_off:
                missing.append(event)
        counts["paid_applied"] += len(
            rows_each(
                task=RECONCILE_PAID_TASK,
                rows=missing,
                handle=_lost_paid_apply,
                key=lambda event: event["data"]["order_id"],
            )
        )
    for batch in _batches(order_events(type="order.refunded", since=since, until=until)):
        refund_ids = {uuid.UUID(str(event["data"]["refund_id"])) for event in batch}
        known = set(
            RefundReceived.objects.filter(refund_id__in=refund_ids).values_list(
                "refund_id", flat=True
            )
        )
        counts["refunds"] += len(batch)
        counts["refunds_applied"] += len(
            rows_each(
                task=RECONCILE_REFUND_TASK,
                rows=[
                    event
                    for event in batch
                    if uuid.UUID(str(event["data"]["refund_id"])) not in known
                    and str(event["data"]["refund_id"]) not in refunds_backed_off
                ],
                handle=_lost_refund_apply,
                key=lambda event: event["data"]["refund_id"],
            )
        )
    for kind in AFTER_PAID:
        _after_paid_reconcile(kind, since=since, until=until, counts=counts)
    logger.info("Attribution reconciled", extra=counts)
    return counts
