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
import json
import logging
import uuid
from collections import Counter
from collections.abc import Callable
from contextvars import ContextVar
from datetime import datetime, timedelta
from typing import Any, ParamSpec, TypeVar

from django.conf import settings
from django.db import DatabaseError, connection, transaction
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
                _holds_release(claimed)

    return released


def _holds_release(hold_ids: list[uuid.UUID]) -> None:
    # Never the checkout's answer: a hold left here lapses at its expiry, and one whose
    # order is written already counts for nothing.
    try:
        CheckoutHold.objects.filter(id__in=hold_ids).delete()
    except DatabaseError:
        logger.warning(
            "Could not give back a checkout hold",
            extra={"ids": [str(hold_id) for hold_id in hold_ids]},
        )


def _lock_buyer(user_id: str) -> None:
    # Transaction-scoped: released at the commit below, never held across a network call.
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT pg_advisory_xact_lock(hashtextextended(%s, 0))",
            [f"clipcart.checkout-holds:{user_id}"],
        )


# What a buyer holds now, in one statement: their open orders (unpaid, not expired) and the
# holds of their checkouts on the way whose order is not written yet (a written one is
# counted as the order), the number of both and the units of the asked-for variants.
_HOLDINGS = f"""
WITH open_orders AS (
    SELECT id FROM {Order._meta.db_table}
    WHERE user_id = %(user)s AND status = %(pending)s AND expires_at > %(now)s
), holds AS (
    SELECT hold.lines FROM {CheckoutHold._meta.db_table} hold
    WHERE hold.user_id = %(user)s AND hold.expires_at > %(now)s
      AND NOT EXISTS (SELECT 1 FROM {Order._meta.db_table} o WHERE o.id = hold.id)
), units AS (
    SELECT line.variant_id::text AS variant_id, line.quantity
    FROM {OrderLine._meta.db_table} line JOIN open_orders ON open_orders.id = line.order_id
    UNION ALL
    SELECT held.line ->> 'variant_id', (held.line ->> 'quantity')::int
    FROM holds, jsonb_array_elements(holds.lines) AS held(line)
)
SELECT
    (SELECT count(*) FROM open_orders) + (SELECT count(*) FROM holds),
    (SELECT coalesce(jsonb_object_agg(variant_id, total), '{{}}'::jsonb) FROM (
        SELECT variant_id, sum(quantity) AS total FROM units
        WHERE variant_id = ANY(%(variants)s) GROUP BY variant_id
    ) per_variant)
"""


def _holdings(*, user_id: str, variant_ids: list[str], now: datetime) -> tuple[int, Counter[str]]:
    with connection.cursor() as cursor:
        cursor.execute(
            _HOLDINGS,
            {
                "user": user_id,
                "pending": Order.Status.PENDING_PAYMENT.value,
                "now": now,
                "variants": variant_ids,
            },
        )
        open_checkouts, units = cursor.fetchone()
    if isinstance(units, str):  # psycopg decodes jsonb, but be plain about it
        units = json.loads(units)
    return open_checkouts, Counter({key: int(value) for key, value in units.items()})


def _too_many_open_checkouts(*, user_id: str, open_checkouts: int) -> ApplicationError:
    logger.info(
        "Checkout refused: too many open", extra={"user_id": user_id, "open": open_checkouts}
    )
    return ApplicationError(
        CheckoutErrorCode.TOO_MANY_OPEN_CHECKOUTS,
        f"You have {settings.MAX_OPEN_CHECKOUTS} unpaid checkouts; pay for or cancel one "
        "first (unpaid ones lapse by themselves).",
        status=409,
    )


def _unit_limit_exceeded(
    *,
    user_id: str,
    lines: list[tuple[uuid.UUID, int]],
    over: list[str],
    wanted: Counter[str],
    held: Counter[str],
    caps: dict[str, int],
) -> ApplicationError:
    logger.info("Checkout refused: unit cap", extra={"user_id": user_id, "variants": over})
    return ApplicationError(
        CheckoutErrorCode.UNIT_LIMIT_EXCEEDED,
        "One buyer may hold only so many units of a product in unpaid checkouts.",
        status=409,
        errors=[
            {
                "field": f"lines[{index}].quantity",
                "code": CheckoutErrorCode.UNIT_LIMIT_EXCEEDED.value,
                "message": f"At most {caps[str(variant_id)]} units of variant {variant_id} "
                f"per buyer; {held[str(variant_id)]} already held.",
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
    refusal: ApplicationError | None = None
    hold: CheckoutHold | None = None
    # No savepoint: nothing inside raises but the database itself (the refusal is raised
    # after the block), and a checkout is never called inside another transaction.
    with transaction.atomic(savepoint=False):
        _lock_buyer(user_id)
        open_checkouts, held = _holdings(user_id=user_id, variant_ids=list(wanted), now=now)
        over = [
            variant_id
            for variant_id, quantity in wanted.items()
            if held[variant_id] + quantity > caps[variant_id]
        ]
        if open_checkouts >= settings.MAX_OPEN_CHECKOUTS:
            refusal = _too_many_open_checkouts(user_id=user_id, open_checkouts=open_checkouts)
        elif over:
            refusal = _unit_limit_exceeded(
                user_id=user_id, lines=lines, over=over, wanted=wanted, held=held, caps=caps
            )
        else:
            hold = CheckoutHold.objects.create(
                id=uuid.uuid4(),
                user_id=user_id,
                lines=[
                    {"variant_id": variant_id, "quantity": quantity}
                    for variant_id, quantity in wanted.items()
                ],
                expires_at=now + timedelta(seconds=settings.CHECKOUT_RESERVATION_SECONDS),
            )
    if refusal is not None:
        raise refusal
    assert hold is not None
    claimed = _claimed.get()
    if claimed is not None:
        claimed.append(hold.id)
    return hold.id


def checkout_holds_prune() -> int:
    """Delete lapsed holds (left by a process that stopped mid-checkout; they count for
    nothing already). Returns how many."""
    deleted, _ = CheckoutHold.objects.filter(expires_at__lte=timezone.now()).delete()
    return deleted
