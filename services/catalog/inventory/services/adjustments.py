"""Stock changes a merchant makes (receive, write off, count) and restocks of returned
units: each a delta applied under the variant's row lock and logged as a movement
(ADR 13). Nothing here writes a level it read before taking the lock.
"""

from __future__ import annotations

import logging
import uuid
from collections import Counter
from collections.abc import Iterable

from django.db import transaction

from clipcart_shared.errors import ApplicationError
from core.errors import CatalogErrorCode, variant_unavailable_error
from inventory.models import StockMovement
from inventory.services.counters import stock_movements_record, stock_shift, variants_lock
from products.models import Variant
from products.services import product_changes_publish

logger = logging.getLogger(__name__)

# The column is a PostgreSQL integer: a receipt past this would be a database error.
MAX_ON_HAND = 2_147_483_647

MERCHANT_KINDS = (
    StockMovement.Kind.RECEIVED,
    StockMovement.Kind.WRITTEN_OFF,
    StockMovement.Kind.COUNTED,
)


def _units(count: int) -> str:
    return f"{count} unit" if count == 1 else f"{count} units"


def stock_change_check(
    *, variant: Variant, kind: str, quantity: int, expected_on_hand: int | None = None
) -> int:
    """The on-hand delta a merchant's change makes on `variant`, read under its row lock,
    or an ApplicationError saying why it is refused (nothing is written either way):

    - `received` `quantity` units: +quantity;
    - `written_off` `quantity` units: -quantity, at most what is not reserved for open
      checkouts (409 `stock_below_reserved`);
    - `counted` at `quantity` units: quantity - on hand, only if on hand is still
      `expected_on_hand` (the level the count was made against; 409 `stock_count_stale`
      naming the current level, in `extra["on_hand"]` too) and not below what is
      reserved (409 `stock_below_reserved`).

    A quantity that is not positive (a count: negative) or would take on hand past the
    column's range is 422 `stock_quantity_invalid`.
    """
    on_hand, reserved = variant.quantity_on_hand, variant.quantity_reserved
    if kind not in MERCHANT_KINDS:
        raise ValueError(f"{kind!r} is not a stock change a merchant makes")
    if quantity < (0 if kind == StockMovement.Kind.COUNTED else 1):
        raise ApplicationError(
            CatalogErrorCode.STOCK_QUANTITY_INVALID,
            "The quantity must be a positive whole number.",
            status=422,
        )
    if kind == StockMovement.Kind.RECEIVED:
        delta = quantity
    elif kind == StockMovement.Kind.WRITTEN_OFF:
        if quantity > on_hand - reserved:
            raise ApplicationError(
                CatalogErrorCode.STOCK_BELOW_RESERVED,
                f"At most {_units(on_hand - reserved)} can be written off: {on_hand} on hand, "
                f"{reserved} reserved for open checkouts.",
                status=409,
                extra={"on_hand": on_hand, "reserved": reserved},
            )
        delta = -quantity
    else:
        if expected_on_hand != on_hand:
            raise ApplicationError(
                CatalogErrorCode.STOCK_COUNT_STALE,
                f"On hand is now {on_hand}, not the {expected_on_hand} the count was made "
                "against: stock moved meanwhile, so nothing was changed.",
                status=409,
                extra={"on_hand": on_hand},
            )
        if quantity < reserved:
            raise ApplicationError(
                CatalogErrorCode.STOCK_BELOW_RESERVED,
                f"{_units(reserved)} are reserved for open checkouts; on hand cannot go below "
                "that.",
                status=409,
                extra={"on_hand": on_hand, "reserved": reserved},
            )
        delta = quantity - on_hand
    if on_hand + delta > MAX_ON_HAND:
        raise ApplicationError(
            CatalogErrorCode.STOCK_QUANTITY_INVALID,
            f"On hand cannot exceed {MAX_ON_HAND}.",
            status=422,
        )
    return delta


def _adjust(
    *,
    variant_id: uuid.UUID,
    kind: str,
    quantity: int,
    expected_on_hand: int | None,
    actor: str,
    user_id: int | None,
    note: str,
) -> StockMovement | None:
    locked = variants_lock(variant_ids=[variant_id])
    if variant_id not in locked:
        raise variant_unavailable_error([0], [(variant_id, quantity)])
    variant = locked[variant_id]
    delta = stock_change_check(
        variant=variant, kind=kind, quantity=quantity, expected_on_hand=expected_on_hand
    )
    if delta == 0:  # a count that found what was expected: nothing moved
        return None
    stock_shift(on_hand={variant_id: delta}, reserved={})
    [movement] = stock_movements_record(
        locked=locked,
        deltas={variant_id: delta},
        kind=kind,
        actor=actor,
        user_id=user_id,
        note=note,
    )
    product_changes_publish(product_ids=[variant.product_id])  # its stock status may change
    logger.info(
        "Stock adjusted",
        extra={
            "variant_id": str(variant_id),
            "kind": kind,
            "delta": delta,
            "on_hand": movement.on_hand_after,
            "actor": actor,
        },
    )
    return movement


@transaction.atomic
def stock_receive(
    *, variant_id: uuid.UUID, quantity: int, actor: str, user_id: int | None = None, note: str = ""
) -> StockMovement:
    """`quantity` units arrived: add them to on hand, logged as `received`."""
    movement = _adjust(
        variant_id=variant_id,
        kind=StockMovement.Kind.RECEIVED,
        quantity=quantity,
        expected_on_hand=None,
        actor=actor,
        user_id=user_id,
        note=note,
    )
    assert movement is not None  # a receipt always moves stock
    return movement


@transaction.atomic
def stock_write_off(
    *, variant_id: uuid.UUID, quantity: int, actor: str, user_id: int | None = None, note: str = ""
) -> StockMovement:
    """`quantity` units are gone (broken, lost, taken out): take them off on hand, logged
    as `written_off`. Units reserved for open checkouts cannot be written off (409)."""
    movement = _adjust(
        variant_id=variant_id,
        kind=StockMovement.Kind.WRITTEN_OFF,
        quantity=quantity,
        expected_on_hand=None,
        actor=actor,
        user_id=user_id,
        note=note,
    )
    assert movement is not None  # a write-off always moves stock
    return movement


@transaction.atomic
def stock_count(
    *,
    variant_id: uuid.UUID,
    counted: int,
    expected_on_hand: int,
    actor: str,
    user_id: int | None = None,
    note: str = "",
) -> StockMovement | None:
    """A count found `counted` units where on hand said `expected_on_hand`: set on hand to
    the count, logged as `counted` with the difference. Refused (409 `stock_count_stale`)
    if on hand is no longer `expected_on_hand` — a sale or another change landed since —
    so a count never puts sold units back. None when the count changes nothing."""
    return _adjust(
        variant_id=variant_id,
        kind=StockMovement.Kind.COUNTED,
        quantity=counted,
        expected_on_hand=expected_on_hand,
        actor=actor,
        user_id=user_id,
        note=note,
    )


@transaction.atomic
def stock_restock(
    *,
    key: str,
    lines: Iterable[tuple[uuid.UUID, int]],
    actor: str,
    user_id: int | None = None,
    note: str = "",
) -> list[StockMovement]:
    """Returned units go back on the shelf, logged as `restocked` with `key` as reference.

    Idempotent by `key`: the same key with the same lines answers the movements it made
    and changes nothing; with other lines it is 422 `restock_key_reused`. Unknown variants
    are 422 `variant_unavailable`; a quantity below 1 is 422 `stock_quantity_invalid`.
    """
    totals: Counter[uuid.UUID] = Counter()
    for variant_id, quantity in lines:
        if quantity < 1:
            raise ApplicationError(
                CatalogErrorCode.STOCK_QUANTITY_INVALID,
                "Every restocked quantity must be a positive whole number.",
                status=422,
            )
        totals[variant_id] += quantity
    merged = sorted(totals.items())
    locked = variants_lock(variant_ids=totals)
    missing = [index for index, (variant_id, _) in enumerate(merged) if variant_id not in locked]
    if missing:
        raise variant_unavailable_error(missing, merged)
    # Read after the locks: a concurrent restock with this key has committed by now.
    done = list(
        StockMovement.objects.filter(kind=StockMovement.Kind.RESTOCKED, reference=key).order_by(
            "variant_id"
        )
    )
    if done:
        if [(movement.variant_id, movement.delta) for movement in done] != merged:
            raise ApplicationError(
                CatalogErrorCode.RESTOCK_KEY_REUSED,
                "This restock key was already used for other lines.",
                status=422,
            )
        return done
    stock_shift(on_hand=dict(merged), reserved={})
    movements = stock_movements_record(
        locked=locked,
        deltas=dict(merged),
        kind=StockMovement.Kind.RESTOCKED,
        actor=actor,
        user_id=user_id,
        reference=key,
        note=note,
    )
    product_changes_publish(product_ids={variant.product_id for variant in locked.values()})
    logger.info("Stock restocked", extra={"key": key, "lines": len(merged), "actor": actor})
    return movements
