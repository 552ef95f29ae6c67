"""How much one buyer may hold in unpaid checkouts: at most `MAX_OPEN_CHECKOUTS` of them,
and at most the merchant's `max_units_per_buyer` units of one variant across them, so that
one account cannot keep a product off the shelf by re-posting checkouts.

A checkout claims a hold (`checkout_hold_claim`) before it reserves stock or asks Stripe,
counting under a per-user advisory lock taken only for that short transaction; the hold
is given back when `checkout_create` returns or fails (`checkout_holds_released`). Why a
hold row and not a lock held through the checkout: ADR 14.
"""

from __future__ import annotations

import functools
import logging
import uuid
from collections import Counter
from collections.abc import Callable, Iterable
from contextvars import ContextVar
from datetime import timedelta
from typing import Any, ParamSpec, TypeVar

from django.conf import settings
from django.db import connection, transaction
from django.db.models import Sum
from django.utils import timezone

from clipcart_shared.errors import ApplicationError
from core.errors import CheckoutErrorCode
from orders.models import CheckoutHold, Order, OrderLine

logger = logging.getLogger(__name__)

# The merchant's cap when a quote does not carry one (a catalog not yet upgraded).
DEFAULT_MAX_UNITS_PER_BUYER = 10

_claimed: ContextVar[list[uuid.UUID] | None] = ContextVar("checkout_holds", default=None)

P = ParamSpec("P")
R = TypeVar("R")


def checkout_holds_released(function: Callable[P, R]) -> Callable[P, R]:
    """Give back the holds `function` (checkout_create) claimed when it returns or fails:
    a failed checkout holds nothing, and a written order counts itself."""

    @functools.wraps(function)
    def released(*args: P.args, **kwargs: P.kwargs) -> R:
        claimed: list[uuid.UUID] = []
        token = _claimed.set(claimed)
        try:
            return function(*args, **kwargs)
        finally:
            _claimed.reset(token)
            if claimed:
                CheckoutHold.objects.filter(id__in=claimed).delete()

    return released


def _lock_buyer(user_id: str) -> None:
    # Transaction-scoped: released at the commit below, never held across a network call.
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT pg_advisory_xact_lock(hashtextextended(%s, 0))",
            [f"clipcart.checkout-holds:{user_id}"],
        )


def _units_held(
    *, orders: Iterable[uuid.UUID], holds: list[CheckoutHold], variant_ids: set[str]
) -> Counter[str]:
    held: Counter[str] = Counter()
    rows = (
        OrderLine.objects.filter(order_id__in=orders, variant_id__in=variant_ids)
        .values("variant_id")
        .annotate(units=Sum("quantity"))
    )
    for row in rows:
        held[str(row["variant_id"])] += row["units"]
    for hold in holds:
        for line in hold.lines:
            if line["variant_id"] in variant_ids:
                held[line["variant_id"]] += line["quantity"]
    return held


def checkout_hold_claim(
    *, user_id: str, lines: list[tuple[uuid.UUID, int]], quote: dict[str, Any]
) -> uuid.UUID:
    """Claim a place for one more checkout of `user_id`, holding `lines` (priced in
    `quote`, catalog's answer, which names each merchant's cap per line); returns the id
    the order is to have. Open means unpaid and not expired; holds of checkouts still on
    their way count too.

    409 `too_many_open_checkouts` when the buyer already has `MAX_OPEN_CHECKOUTS`; 409
    `unit_limit_exceeded` naming each variant whose units across the buyer's open
    checkouts would pass the merchant's cap. Nothing is held then.
    """
    now = timezone.now()
    wanted: Counter[str] = Counter()
    for variant_id, quantity in lines:
        wanted[str(variant_id)] += quantity
    caps = {
        str(quoted["variant_id"]): quoted.get("max_units_per_buyer", DEFAULT_MAX_UNITS_PER_BUYER)
        for quoted in quote["lines"]
    }
    with transaction.atomic():
        _lock_buyer(user_id)
        CheckoutHold.objects.filter(user_id=user_id, expires_at__lte=now).delete()
        open_orders = list(
            Order.objects.filter(
                user_id=user_id, status=Order.Status.PENDING_PAYMENT, expires_at__gt=now
            ).values_list("id", flat=True)
        )
        # A hold whose order is written (the checkout is returning) is counted as the order.
        holds = list(
            CheckoutHold.objects.filter(user_id=user_id).exclude(
                id__in=Order.objects.filter(user_id=user_id).values("id")
            )
        )
        if len(open_orders) + len(holds) >= settings.MAX_OPEN_CHECKOUTS:
            logger.info(
                "Checkout refused: too many open",
                extra={"user_id": user_id, "open": len(open_orders) + len(holds)},
            )
            raise ApplicationError(
                CheckoutErrorCode.TOO_MANY_OPEN_CHECKOUTS,
                f"You have {settings.MAX_OPEN_CHECKOUTS} unpaid checkouts; pay for or "
                "cancel one first (unpaid ones lapse by themselves).",
                status=409,
            )
        held = _units_held(orders=open_orders, holds=holds, variant_ids=set(wanted))
        over = [
            variant_id
            for variant_id, quantity in wanted.items()
            if held[variant_id] + quantity > caps[variant_id]
        ]
        if over:
            logger.info("Checkout refused: unit cap", extra={"user_id": user_id, "variants": over})
            raise ApplicationError(
                CheckoutErrorCode.UNIT_LIMIT_EXCEEDED,
                "One buyer may hold only so many units of a product in unpaid checkouts.",
                status=409,
                errors=[
                    {
                        "field": f"lines[{index}].quantity",
                        "code": CheckoutErrorCode.UNIT_LIMIT_EXCEEDED.value,
                        "message": f"At most {caps[str(variant_id)]} units of variant "
                        f"{variant_id} per buyer; {held[str(variant_id)]} already held.",
                    }
                    for index, (variant_id, _) in enumerate(lines)
                    if str(variant_id) in over
                ],
                extra={
                    "lines": [
                        {
                            "variant_id": variant_id,
                            "requested": wanted[variant_id],
                            "held": held[variant_id],
                            "limit": caps[variant_id],
                        }
                        for variant_id in over
                    ]
                },
            )
        hold = CheckoutHold.objects.create(
            id=uuid.uuid4(),
            user_id=user_id,
            lines=[
                {"variant_id": variant_id, "quantity": quantity}
                for variant_id, quantity in wanted.items()
            ],
            expires_at=now + timedelta(seconds=settings.CHECKOUT_RESERVATION_SECONDS),
        )
    claimed = _claimed.get()
    if claimed is not None:
        claimed.append(hold.id)
    return hold.id
