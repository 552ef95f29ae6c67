"""What the checkout admin's home page counts (`orders.admin.home`): sales by day, what
is left to ship and to decide, and — for platform staff — payments' pipes. Each is one
query whatever the number of orders; `merchant_ids` None means every merchant.

A sale counts on the UTC day its order was paid, for the lines of these merchants: net
is what the lines sold less what was refunded on them since (as video's reports count),
shipping left out (one order has one shipping amount for all its shops). A line is *from
a video* when the buyer picked it from one (its cart source); attribution in video
judges every sale again and credits views too, so its numbers can differ (ADR 28).
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta

from django.db.models import Count, Exists, F, OuterRef, Q, QuerySet, Sum
from django.db.models.functions import Coalesce, TruncDate
from django.utils import timezone

from orders.models import Order, OrderLine, OrderReturn, Refund
from payments.models import WebhookEvent

# A refund still pending after this long is stuck (the reconciliation task finishes
# those left by a stopped process after ten minutes).
REFUND_STUCK_AFTER = timedelta(minutes=10)


@dataclass
class DaySales:
    """One UTC day's sales in one currency; `*_from_video` the part of lines picked from
    a video (orders: those with at least one such line)."""

    day: date
    currency: str
    orders: int = 0
    orders_from_video: int = 0
    units: int = 0
    units_from_video: int = 0
    sales: int = 0
    refunds: int = 0
    net: int = 0
    net_from_video: int = 0

    def add(self, other: DaySales) -> None:
        for name in (
            "orders",
            "orders_from_video",
            "units",
            "units_from_video",
            "sales",
            "refunds",
            "net",
            "net_from_video",
        ):
            setattr(self, name, getattr(self, name) + getattr(other, name))


def _lines_of(merchant_ids: list[uuid.UUID] | None) -> QuerySet[OrderLine]:
    lines = OrderLine.objects.all()
    return lines if merchant_ids is None else lines.filter(merchant_id__in=merchant_ids)


def sales_by_day(*, merchant_ids: list[uuid.UUID] | None, since: datetime) -> list[DaySales]:
    """The sales of these merchants' lines in orders paid since `since`, per UTC day of
    payment and currency (days without a sale are absent). One query."""
    from_video = Q(source_video_id__isnull=False)
    rows = (
        _lines_of(merchant_ids)
        .filter(order__paid_at__gte=since)
        .annotate(day=TruncDate("order__paid_at", tzinfo=UTC))
        .values("day", "order__currency")
        .annotate(
            orders=Count("order_id", distinct=True),
            orders_from_video=Count("order_id", distinct=True, filter=from_video),
            units=Sum("quantity"),
            units_from_video=Coalesce(Sum("quantity", filter=from_video), 0),
            sales=Sum("line_total_amount"),
            refunds=Sum("refunded_amount"),
            net=Sum(F("line_total_amount") - F("refunded_amount")),
            net_from_video=Coalesce(
                Sum(F("line_total_amount") - F("refunded_amount"), filter=from_video), 0
            ),
        )
        .order_by("day", "order__currency")
    )
    return [
        DaySales(
            day=row.pop("day"),
            currency=row.pop("order__currency"),
            **{name: int(value) for name, value in row.items()},
        )
        for row in rows
    ]


def _left_to_ship(merchant_ids: list[uuid.UUID] | None) -> QuerySet[OrderLine]:
    return _lines_of(merchant_ids).filter(
        order__status__in=Order.AFTER_PAYMENT,
        quantity__gt=F("cancelled_quantity") + F("shipped_quantity"),
    )


def orders_to_ship(
    orders: QuerySet[Order], merchant_ids: list[uuid.UUID] | None
) -> QuerySet[Order]:
    """The orders (of `orders`) paid and not cancelled with units of these merchants'
    lines left to ship: bought, less cancelled, less shipped."""
    return orders.filter(Exists(_left_to_ship(merchant_ids).filter(order=OuterRef("pk"))))


def orders_to_ship_count(*, merchant_ids: list[uuid.UUID] | None) -> int:
    return orders_to_ship(Order.objects.all(), merchant_ids).count()


def orders_from_video(
    orders: QuerySet[Order], merchant_ids: list[uuid.UUID] | None, *, is_from_video: bool
) -> QuerySet[Order]:
    """The orders (of `orders`) with a line of these merchants picked from a video, or
    (`is_from_video` False) with none."""
    picked = _lines_of(merchant_ids).filter(order=OuterRef("pk"), source_video_id__isnull=False)
    return orders.filter(Exists(picked)) if is_from_video else orders.exclude(Exists(picked))


def returns_to_decide_count(*, merchant_ids: list[uuid.UUID] | None) -> int:
    """Returns these merchants' buyers asked for that nobody approved or rejected yet."""
    returns = OrderReturn.objects.filter(status=OrderReturn.Status.REQUESTED)
    if merchant_ids is not None:
        returns = returns.filter(merchant_id__in=merchant_ids)
    return returns.count()


def orders_with_refunds(orders: QuerySet[Order], status: str) -> QuerySet[Order]:
    """The orders (of `orders`) with a refund in `status`; `stuck`: pending for longer
    than `REFUND_STUCK_AFTER`."""
    refunds = Refund.objects.filter(order=OuterRef("pk"))
    if status == "stuck":
        refunds = refunds.filter(
            status=Refund.Status.PENDING, created_at__lt=timezone.now() - REFUND_STUCK_AFTER
        )
    else:
        refunds = refunds.filter(status=status)
    return orders.filter(Exists(refunds))


@dataclass(frozen=True)
class PaymentPipes:
    webhooks_waiting: int
    webhooks_failed: int
    refunds_failed: int
    refunds_stuck: int


WEBHOOK_FAILED = (WebhookEvent.Status.FAILED, WebhookEvent.Status.MISMATCH)


def payment_pipes() -> PaymentPipes:
    """Stripe's webhook log (events not applied yet; failed or mismatched) and refunds
    that failed or are stuck pending: for platform staff. Two queries."""
    webhooks = WebhookEvent.objects.aggregate(
        waiting=Count("id", filter=Q(status=WebhookEvent.Status.RECEIVED)),
        failed=Count("id", filter=Q(status__in=WEBHOOK_FAILED)),
    )
    refunds = Refund.objects.aggregate(
        failed=Count("id", filter=Q(status=Refund.Status.FAILED)),
        stuck=Count(
            "id",
            filter=Q(
                status=Refund.Status.PENDING,
                created_at__lt=timezone.now() - REFUND_STUCK_AFTER,
            ),
        ),
    )
    return PaymentPipes(
        webhooks_waiting=webhooks["waiting"],
        webhooks_failed=webhooks["failed"],
        refunds_failed=refunds["failed"],
        refunds_stuck=refunds["stuck"],
    )
