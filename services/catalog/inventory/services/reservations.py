"""Stock reservations: reserve at checkout, commit when paid, release when abandoned.

Every operation is idempotent by the caller's key or the reservation's state, locks the
variant rows it touches in id order (so opposite orders cannot deadlock), and leaves the
database CHECK constraints as the last word on overselling.
"""

from __future__ import annotations

import hashlib
import logging
import uuid
from collections import Counter
from collections.abc import Iterable
from datetime import datetime, timedelta

from django.db import IntegrityError, transaction
from django.utils import timezone

from clipcart_shared.errors import ApplicationError
from clipcart_shared.sweeps.services import rows_backed_off, rows_each
from core.errors import CatalogErrorCode, variant_unavailable_error
from inventory.models import (
    Reservation,
    ReservationFlashDeal,
    ReservationLine,
    ReservationPromotion,
    StockMovement,
)
from inventory.services.counters import stock_movements_record, stock_shift, variants_lock
from products.models import Product, Variant
from products.services import product_changes_publish
from promotions.flash import flash_units_consume, flash_units_give_back, flash_units_hold
from promotions.services import (
    promotion_uses_consume,
    promotion_uses_give_back,
    promotion_uses_hold,
)

logger = logging.getLogger(__name__)

Lines = list[tuple[uuid.UUID, int]]


def _merge(lines: Iterable[tuple[uuid.UUID, int]]) -> Lines:
    """One entry per variant, sorted by id: a canonical form for hashing and for locking."""
    totals: Counter[uuid.UUID] = Counter()
    for variant_id, quantity in lines:
        totals[variant_id] += quantity
    return sorted(totals.items())


def _fingerprint(
    lines: Lines,
    promotion_ids: list[uuid.UUID] | None = None,
    customer_id: str | None = None,
    flash_units: Lines | None = None,
) -> str:
    held: list[object] = [(str(v), q) for v, q in lines]
    if promotion_ids:  # without promotions, the fingerprint is what it always was
        held.append((sorted(str(p) for p in promotion_ids), customer_id))
    if flash_units:  # nor without flash deals
        held.append(([(str(d), q) for d, q in flash_units], customer_id))
    return hashlib.sha256(repr(held).encode()).hexdigest()


def _products_of(variants: Iterable[Variant]) -> set[uuid.UUID]:
    return {variant.product_id for variant in variants}


def reservation_create(
    *,
    key: str,
    lines: Iterable[tuple[uuid.UUID, int]],
    ttl_seconds: int,
    promotion_ids: Iterable[uuid.UUID] = (),
    customer_id: str | None = None,
    flash_units: Iterable[tuple[uuid.UUID, int]] = (),
) -> tuple[Reservation, bool]:
    """Hold stock for every line and one use of each promotion for `customer_id`, all or
    nothing. Returns the reservation and whether it was created now (False: the same key
    was seen before and nothing changed).

    Raises 409 `out_of_stock` naming each short line, 422 `variant_unavailable` for
    unknown or unsellable variants, 422 `reservation_key_reused` for a key seen with
    other lines; for promotions 409 `promotion_exhausted`, `promotion_already_used`,
    `promotion_expired` (`promotions.services.promotion_uses_hold`); for the units at a
    flash deal's price (`flash_units`, [(deal id, quantity)]) 409 `flash_deal_sold_out`,
    `flash_deal_limit_reached`, `flash_deal_ended` (`promotions.flash.flash_units_hold`).
    """
    merged = _merge(lines)
    promotions = sorted(set(promotion_ids))
    deal_units = _merge(flash_units)
    fingerprint = _fingerprint(merged, promotions, customer_id, deal_units)
    existing = Reservation.objects.filter(key=key).first()
    if existing is not None:
        return _replayed(existing, fingerprint), False
    try:
        with transaction.atomic():
            reservation = _reserve(
                key=key,
                lines=merged,
                fingerprint=fingerprint,
                ttl=ttl_seconds,
                promotion_ids=promotions,
                customer_id=customer_id,
                flash_units=deal_units,
            )
    except IntegrityError:
        # A concurrent request with the same key won the insert; answer as a replay.
        existing = Reservation.objects.filter(key=key).first()
        if existing is None:
            raise
        return _replayed(existing, fingerprint), False
    logger.info("Stock reserved", extra={"reservation_id": str(reservation.id), "key": key})
    return reservation, True


def _replayed(reservation: Reservation, fingerprint: str) -> Reservation:
    if reservation.lines_fingerprint != fingerprint:
        raise ApplicationError(
            CatalogErrorCode.RESERVATION_KEY_REUSED,
            "This reservation key was already used for other lines.",
            status=422,
        )
    return reservation


def _reserve(
    *,
    key: str,
    lines: Lines,
    fingerprint: str,
    ttl: int,
    promotion_ids: list[uuid.UUID],
    customer_id: str | None,
    flash_units: Lines,
) -> Reservation:
    variants = variants_lock(variant_ids=[variant_id for variant_id, _ in lines])
    missing = [
        index
        for index, (variant_id, _) in enumerate(lines)
        if variant_id not in variants
        or variants[variant_id].product.status != Product.Status.ACTIVE
    ]
    if missing:
        raise variant_unavailable_error(missing, lines)
    short = [
        (variant_id, quantity, variants[variant_id].quantity_available)
        for variant_id, quantity in lines
        if variants[variant_id].quantity_available < quantity
    ]
    if short:
        raise ApplicationError(
            CatalogErrorCode.OUT_OF_STOCK,
            "Not enough stock for some lines.",
            status=409,
            errors=[
                {
                    "field": "lines",
                    "code": CatalogErrorCode.OUT_OF_STOCK.value,
                    "message": f"Variant {variant_id}: {available} available, {quantity} asked.",
                }
                for variant_id, quantity, available in short
            ],
            extra={
                "lines": [
                    {"variant_id": str(v), "requested": q, "available": max(a, 0)}
                    for v, q, a in short
                ]
            },
        )
    stock_shift(on_hand={}, reserved=dict(lines))
    # After the variants: every writer locks variants, then promotions (ADR 32).
    promotion_uses_hold(promotion_ids=promotion_ids, customer_id=customer_id)
    flash_units_hold(units=flash_units, customer_id=customer_id)  # then the deals
    reservation = Reservation.objects.create(
        key=key,
        lines_fingerprint=fingerprint,
        expires_at=timezone.now() + timedelta(seconds=ttl),
    )
    ReservationLine.objects.bulk_create(
        [
            ReservationLine(reservation=reservation, variant_id=variant_id, quantity=quantity)
            for variant_id, quantity in lines
        ]
    )
    ReservationPromotion.objects.bulk_create(
        [
            ReservationPromotion(
                reservation=reservation, promotion_id=promotion_id, customer_id=customer_id or ""
            )
            for promotion_id in promotion_ids
        ]
    )
    ReservationFlashDeal.objects.bulk_create(
        [
            ReservationFlashDeal(
                reservation=reservation, deal_id=deal_id, quantity=q, customer_id=customer_id or ""
            )
            for deal_id, q in flash_units
        ]
    )
    product_changes_publish(product_ids=_products_of(variants.values()))
    return reservation


def _locked_reservation(reservation_id: uuid.UUID) -> tuple[Reservation, Lines]:
    reservation = Reservation.objects.select_for_update().get(id=reservation_id)
    lines = sorted(reservation.lines.values_list("variant_id", "quantity"))
    return reservation, lines


@transaction.atomic
def reservation_commit(*, reservation_id: uuid.UUID, actor: str = "system:checkout") -> Reservation:
    """The order is paid: the held units leave the shelf, each line logged as a `committed`
    stock movement referencing the reservation. Idempotent.

    A reservation that already expired is committed only if the stock is still there
    (409 `out_of_stock` otherwise); a released one cannot be (409).
    """
    reservation, lines = _locked_reservation(reservation_id)
    if reservation.status == Reservation.Status.COMMITTED:
        return reservation
    if reservation.status == Reservation.Status.RELEASED:
        raise ApplicationError(
            CatalogErrorCode.RESERVATION_RELEASED,
            "This reservation was released; its stock is no longer held.",
            status=409,
        )
    variants = variants_lock(variant_ids=[variant_id for variant_id, _ in lines])
    taken = {variant_id: -quantity for variant_id, quantity in lines}
    promotion_ids, customer_id = _held_promotions(reservation)
    if reservation.status == Reservation.Status.ACTIVE:
        stock_shift(on_hand=taken, reserved=taken)
        promotion_uses_consume(promotion_ids=promotion_ids)
        flash_units_consume(units=_held_flash_units(reservation)[0])
    else:  # expired: the units went back to the shelf; take them again if still there
        short = [v for v, q in lines if variants[v].quantity_available < q]
        if short:
            raise ApplicationError(
                CatalogErrorCode.OUT_OF_STOCK,
                "The reservation expired and its stock has been sold meanwhile.",
                status=409,
            )
        stock_shift(on_hand=taken, reserved={})
        # The uses went back too: taken again, consumed at once, if any are left.
        promotion_uses_hold(promotion_ids=promotion_ids, customer_id=customer_id, consumed=True)
        flash_units, buyer = _held_flash_units(reservation)
        flash_units_hold(units=flash_units, customer_id=buyer, consumed=True)
    stock_movements_record(
        locked=variants,
        deltas=taken,
        kind=StockMovement.Kind.COMMITTED,
        actor=actor,
        reference=str(reservation.id),
    )
    reservation.status = Reservation.Status.COMMITTED
    reservation.save(update_fields=["status", "updated_at"])
    product_changes_publish(product_ids=_products_of(variants.values()))
    logger.info("Reservation committed", extra={"reservation_id": str(reservation.id)})
    return reservation


def _held_promotions(reservation: Reservation) -> tuple[list[uuid.UUID], str | None]:
    """The promotions whose uses the reservation holds, and for which buyer."""
    held = list(reservation.promotions.values_list("promotion_id", "customer_id"))
    customer_id = next((customer for _, customer in held if customer), None)
    return [promotion_id for promotion_id, _ in held], customer_id


def _held_flash_units(reservation: Reservation) -> tuple[Lines, str | None]:
    """The flash deal units the reservation holds, and for which buyer."""
    held = list(reservation.flash_deals.values_list("deal_id", "quantity", "customer_id"))
    customer_id = next((customer for _, _, customer in held if customer), None)
    return [(deal_id, quantity) for deal_id, quantity, _ in held], customer_id


def _give_back(reservation: Reservation, lines: Lines, status: str) -> None:
    # Only `quantity_reserved` moves: the units never left the shelf, so no movement.
    variants = variants_lock(variant_ids=[variant_id for variant_id, _ in lines])
    stock_shift(on_hand={}, reserved={variant_id: -quantity for variant_id, quantity in lines})
    promotion_ids, customer_id = _held_promotions(reservation)
    promotion_uses_give_back(promotion_ids=promotion_ids, customer_id=customer_id)
    flash_units, buyer = _held_flash_units(reservation)
    flash_units_give_back(units=flash_units, customer_id=buyer)
    reservation.status = status
    reservation.save(update_fields=["status", "updated_at"])
    product_changes_publish(product_ids=_products_of(variants.values()))


@transaction.atomic
def reservation_release(*, reservation_id: uuid.UUID) -> Reservation:
    """The checkout was abandoned or cancelled: give the units back. Idempotent.

    409 `reservation_committed` if the order was already paid.
    """
    reservation, lines = _locked_reservation(reservation_id)
    if reservation.status in (Reservation.Status.RELEASED, Reservation.Status.EXPIRED):
        return reservation
    if reservation.status == Reservation.Status.COMMITTED:
        raise ApplicationError(
            CatalogErrorCode.RESERVATION_COMMITTED,
            "This reservation was committed (paid) and cannot be released.",
            status=409,
        )
    _give_back(reservation, lines, Reservation.Status.RELEASED)
    logger.info("Reservation released", extra={"reservation_id": str(reservation.id)})
    return reservation


EXPIRE_TASK = "inventory.reservations_expire"


def reservations_expire(*, batch_size: int = 500) -> int:
    """Give back the stock of active reservations past their expiry.

    One transaction per reservation, so a sweep never holds the variant locks of several
    reservations at once (that could deadlock with a checkout locking them in id order);
    rows being committed or released right now are skipped, not waited for. A
    reservation that fails is logged and backed off; the others are still released.
    """
    now = timezone.now()
    due = (
        Reservation.objects.filter(status=Reservation.Status.ACTIVE, expires_at__lt=now)
        .exclude(id__in=rows_backed_off(task=EXPIRE_TASK))
        .order_by("expires_at")
        .values_list("id", flat=True)
    )
    expired = sum(
        rows_each(
            task=EXPIRE_TASK,
            rows=list(due[:batch_size]),
            handle=lambda reservation_id: _expire(reservation_id, now),
        )
    )
    if expired:
        logger.info("Expired reservations released", extra={"count": expired})
    return expired


def _expire(reservation_id: uuid.UUID, now: datetime) -> bool:
    with transaction.atomic():
        reservation = (
            Reservation.objects.select_for_update(skip_locked=True)
            .filter(id=reservation_id, status=Reservation.Status.ACTIVE, expires_at__lt=now)
            .first()
        )
        if reservation is None:
            return False
        lines = sorted(reservation.lines.values_list("variant_id", "quantity"))
        _give_back(reservation, lines, Reservation.Status.EXPIRED)
        return True
