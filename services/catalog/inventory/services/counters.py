"""The two stock counters on a variant, as every writer of stock moves them (ADR 4, 13).

A writer locks the variants it touches in id order (`variants_lock`), decides from the
locked rows, then moves the counters by deltas in SQL (`stock_shift`), never by writing a
value it read. Each change of on-hand is logged in the same transaction
(`stock_movements_record`).
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable

from django.db.models import Case, F, IntegerField, When

from inventory.models import StockMovement
from products.models import Variant


def variants_lock(*, variant_ids: Iterable[uuid.UUID]) -> dict[uuid.UUID, Variant]:
    """Lock the variants' rows (SELECT … FOR UPDATE) in id order, in every transaction the
    same order, so two writers taking the same variants queue instead of deadlocking.
    Must run inside a transaction; answers the locked rows with their products."""
    locked = (
        Variant.objects.select_for_update(of=("self",))
        .select_related("product")
        .filter(id__in=set(variant_ids))
        .order_by("id")
    )
    return {variant.id: variant for variant in locked}


def stock_shift(*, on_hand: dict[uuid.UUID, int], reserved: dict[uuid.UUID, int]) -> None:
    """Add the given deltas to the counters of many variants in one UPDATE. The CHECK
    constraints (on hand >= reserved >= 0) are the last word if a caller got it wrong."""
    changes: dict[str, Case] = {}
    if on_hand:
        changes["quantity_on_hand"] = Case(
            *(When(id=vid, then=F("quantity_on_hand") + delta) for vid, delta in on_hand.items()),
            default=F("quantity_on_hand"),
            output_field=IntegerField(),
        )
    if reserved:
        changes["quantity_reserved"] = Case(
            *(When(id=vid, then=F("quantity_reserved") + d) for vid, d in reserved.items()),
            default=F("quantity_reserved"),
            output_field=IntegerField(),
        )
    if changes:
        Variant.objects.filter(id__in=set(on_hand) | set(reserved)).update(**changes)


def stock_movements_record(
    *,
    locked: dict[uuid.UUID, Variant],
    deltas: dict[uuid.UUID, int],
    kind: str,
    actor: str,
    user_id: int | None = None,
    reference: str = "",
    note: str = "",
) -> list[StockMovement]:
    """Log the on-hand deltas about to be (or just) applied to `locked` variants, whose
    rows were read under the lock, so `on_hand + delta` is the level each one is left at.

    `actor` is an admin user's username (with their `user_id`) or "system:<caller>"."""
    return StockMovement.objects.bulk_create(
        StockMovement(
            variant_id=variant_id,
            kind=kind,
            delta=delta,
            on_hand_after=locked[variant_id].quantity_on_hand + delta,
            actor=actor,
            user_id=user_id,
            reference=reference,
            note=note,
        )
        for variant_id, delta in sorted(deltas.items())
        if delta
    )
