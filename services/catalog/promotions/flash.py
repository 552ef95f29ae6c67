"""Flash deals at work: the price they put on a quote's lines, their units held with a
stock reservation, and the `flash_deal` of a product card.

Which lines get the deal price: a line added from the deal's video (the quote line's
`video_id`, the cart line's source, which checkout checked is a tag of that product in
that video), of the deal's product (and variant, when it names one), while the deal
runs, when the line's whole quantity fits in what the buyer may still take
(`per_buyer_limit` less the units they hold) and in what is left (`total_quantity`
less the units held and sold). The deal price replaces the unit price; promotions then
apply on it. Units are held with the stock (`flash_units_hold`, called by the
reservation after the variants and the promotions are locked; deals are locked in id
order): the CHECK constraints on `FlashDeal` and `FlashDealBuyerUse` are the last word.
"""

from __future__ import annotations

import uuid
from collections import Counter
from collections.abc import Iterable, Sequence
from datetime import datetime
from typing import Any

from django.db import IntegrityError, connection, transaction
from django.db.models import Case, F, IntegerField, Value, When
from django.db.models.functions import Greatest
from django.utils import timezone

from clipcart_shared.errors import ApplicationError
from core.errors import CatalogErrorCode
from products.selectors import card_time
from promotions.flash_models import FlashDeal, FlashDealBuyerUse

DealUnits = list[tuple[uuid.UUID, int]]


def quote_flash_deals_apply(
    *,
    quote: dict[str, Any],
    video_ids: Sequence[uuid.UUID | None],
    customer_id: str | None,
    now: datetime | None = None,
) -> dict[str, Any]:
    """Put the running deals' prices on the quote's lines (before promotions apply):
    `unit_price` and `line_total` at the deal price, and `flash_deal {id, price,
    list_price, ends_at}` on each such line (null on the others). Two queries whatever
    the lines: the deals, and the buyer's units."""
    now = now or timezone.now()
    lines: list[dict[str, Any]] = quote["lines"]
    for line in lines:
        line["flash_deal"] = None
    wanted = {(line["product_id"], str(v)) for line, v in zip(lines, video_ids, strict=True) if v}
    if not wanted:
        return quote
    deals = list(
        FlashDeal.objects.filter(
            product_id__in={product for product, _ in wanted},
            video_id__in={video for _, video in wanted},
            starts_at__lte=now,
            ends_at__gt=now,
        ).order_by("starts_at", "id")
    )
    held: dict[uuid.UUID, int] = {}
    if customer_id is not None and deals:
        held = dict(
            FlashDealBuyerUse.objects.filter(
                customer_id=customer_id, deal__in=[deal.id for deal in deals]
            ).values_list("deal_id", "units_held")
        )
    taken: Counter[uuid.UUID] = Counter()
    for line, video_id in zip(lines, video_ids, strict=True):
        deal = next(
            (
                deal
                for deal in deals
                if video_id is not None
                and str(deal.video_id) == str(video_id)
                and str(deal.product_id) == line["product_id"]
                and (deal.variant_id is None or str(deal.variant_id) == line["variant_id"])
            ),
            None,
        )
        if deal is None:
            continue
        quantity = line["quantity"]
        buyer_left = deal.per_buyer_limit - held.get(deal.id, 0) - taken[deal.id]
        remaining = deal.remaining
        total_left = None if remaining is None else remaining - taken[deal.id]
        list_price = line["unit_price"]
        if (
            quantity > buyer_left
            or (total_left is not None and quantity > total_left)
            or deal.price_amount >= list_price["amount"]
        ):
            continue
        taken[deal.id] += quantity
        currency = list_price["currency"]
        line["unit_price"] = {"amount": deal.price_amount, "currency": currency}
        line["line_total"] = {"amount": deal.price_amount * quantity, "currency": currency}
        line["flash_deal"] = {
            "id": str(deal.id),
            "price": {"amount": deal.price_amount, "currency": currency},
            "list_price": list_price,
            "ends_at": card_time(deal.ends_at),
        }
    return quote


def _refused(code: CatalogErrorCode, deal_id: uuid.UUID, message: str) -> ApplicationError:
    return ApplicationError(
        code,
        message,
        status=409,
        errors=[{"field": "flash_deals", "code": code.value, "message": str(deal_id)}],
        extra={"flash_deal_id": str(deal_id)},
    )


def _merged(units: Iterable[tuple[uuid.UUID, int]]) -> DealUnits:
    totals: Counter[uuid.UUID] = Counter()
    for deal_id, quantity in units:
        totals[deal_id] += quantity
    return sorted(totals.items())


def _lock(deal_ids: Iterable[uuid.UUID]) -> dict[uuid.UUID, FlashDeal]:
    locked = FlashDeal.objects.select_for_update().filter(id__in=set(deal_ids)).order_by("id")
    return {deal.id: deal for deal in locked}


def _by_deal(field: str, units: DealUnits, key: str = "id") -> Any:
    """`field` moved by each deal's own quantity (rows told apart by `key`, the deal's id),
    in one UPDATE for all the deals."""
    return F(field) + Case(
        *(When(**{key: deal_id}, then=Value(quantity)) for deal_id, quantity in units),
        default=Value(0),
        output_field=IntegerField(),
    )


def flash_units_hold(
    *,
    units: Iterable[tuple[uuid.UUID, int]],
    customer_id: str | None,
    consumed: bool = False,
    now: datetime | None = None,
) -> DealUnits:
    """Hold `units` [(deal id, quantity)] at the deal price for `customer_id`: reserved
    (or, with `consumed`, sold at once: an expired reservation paid after all). 409
    `flash_deal_sold_out` when fewer are left, `flash_deal_limit_reached` past the
    buyer's limit, `flash_deal_ended` when it does not run (not asked of a late payment:
    its price was agreed while it ran). Returns the merged units.

    Four statements whatever the number of deals: the lock, the buyer's units, their
    upsert and the counters' update (the CHECKs have the last word on both)."""
    merged = _merged(units)
    if not merged:
        return merged
    now = now or timezone.now()
    locked = _lock(deal_id for deal_id, _ in merged)
    if customer_id is None:
        raise _refused(
            CatalogErrorCode.FLASH_DEAL_LIMIT_REACHED,
            merged[0][0],
            "This flash deal is limited per buyer; the buyer is not known.",
        )
    held = dict(
        FlashDealBuyerUse.objects.filter(
            customer_id=customer_id, deal_id__in=list(locked)
        ).values_list("deal_id", "units_held")
    )
    for deal_id, quantity in merged:
        deal = locked.get(deal_id)
        if deal is None or (not consumed and not deal.starts_at <= now < deal.ends_at):
            raise _refused(CatalogErrorCode.FLASH_DEAL_ENDED, deal_id, "This flash deal is over.")
        if deal.remaining is not None and deal.remaining < quantity:
            raise _refused(
                CatalogErrorCode.FLASH_DEAL_SOLD_OUT, deal_id, "This flash deal is sold out."
            )
        if held.get(deal_id, 0) + quantity > deal.per_buyer_limit:
            raise _refused(
                CatalogErrorCode.FLASH_DEAL_LIMIT_REACHED,
                deal_id,
                "The buyer already has as many units at this deal price as it allows.",
            )
    _buyer_units_take([(locked[d], q) for d, q in merged], customer_id)
    counter = "units_consumed" if consumed else "units_reserved"
    try:
        with transaction.atomic():
            FlashDeal.objects.filter(id__in=[d for d, _ in merged]).update(
                **{counter: _by_deal(counter, merged)}
            )
    except IntegrityError as error:  # the CHECK: only if the checks above were wrong
        raise _refused(
            CatalogErrorCode.FLASH_DEAL_SOLD_OUT, merged[0][0], "A flash deal is sold out."
        ) from error
    return merged


def _buyer_units_take(units: list[tuple[FlashDeal, int]], customer_id: str) -> None:
    table = FlashDealBuyerUse._meta.db_table
    rows = ", ".join(["(%s, %s, %s, %s)"] * len(units))
    values = [
        value
        for deal, quantity in units
        for value in (deal.id, customer_id, quantity, deal.per_buyer_limit)
    ]
    try:
        with transaction.atomic(), connection.cursor() as cursor:
            cursor.execute(
                f"""INSERT INTO {table} (deal_id, customer_id, units_held, unit_limit)
                    VALUES {rows}
                    ON CONFLICT (deal_id, customer_id) DO UPDATE
                    SET units_held = {table}.units_held + EXCLUDED.units_held,
                        unit_limit = EXCLUDED.unit_limit""",
                values,
            )
    except IntegrityError as error:  # flash_deal_buyer_within_limit
        raise _refused(
            CatalogErrorCode.FLASH_DEAL_LIMIT_REACHED,
            units[0][0].id,
            "The buyer already has as many units at this deal price as it allows.",
        ) from error


def flash_units_consume(*, units: Iterable[tuple[uuid.UUID, int]]) -> None:
    """The reservation holding these units was paid: reserved units become sold (two
    statements: the deals locked in id order first, as every writer of them does, so a
    concurrent hold never deadlocks with the UPDATE; then the UPDATE)."""
    merged = _merged(units)
    if not merged:
        return
    _lock(deal_id for deal_id, _ in merged)
    FlashDeal.objects.filter(id__in=[d for d, _ in merged]).update(
        units_reserved=_by_deal("units_reserved", [(d, -q) for d, q in merged]),
        units_consumed=_by_deal("units_consumed", merged),
    )


def flash_units_give_back(
    *, units: Iterable[tuple[uuid.UUID, int]], customer_id: str | None
) -> None:
    """The reservation holding these units was released or expired: they come back, to
    the deal and to the buyer (three statements whatever the deals)."""
    merged = _merged(units)
    if not merged:
        return
    _lock(deal_id for deal_id, _ in merged)
    ids = [deal_id for deal_id, _ in merged]
    back = [(deal_id, -quantity) for deal_id, quantity in merged]
    FlashDeal.objects.filter(id__in=ids).update(units_reserved=_by_deal("units_reserved", back))
    if customer_id:
        FlashDealBuyerUse.objects.filter(deal_id__in=ids, customer_id=customer_id).update(
            units_held=Greatest(_by_deal("units_held", back, key="deal_id"), Value(0))
        )


def flash_deal_cards(product_ids: Sequence[uuid.UUID]) -> dict[uuid.UUID, dict[str, Any]]:
    """The `flash_deal` of each product's stored card: the deal running now, else the next
    to start (one query). Readers show it only while it runs (catalog's
    `products.apis.card_with_flash_deal`, video's feed), so a deal starts and ends on the
    cards by the clock, not by a write."""
    now = timezone.now()
    cards: dict[uuid.UUID, dict[str, Any]] = {}
    deals = (
        FlashDeal.objects.filter(product_id__in=list(product_ids), ends_at__gt=now)
        .select_related("merchant")
        .order_by("starts_at", "id")
    )
    for deal in deals:
        if deal.product_id in cards:
            continue
        cards[deal.product_id] = {
            "id": str(deal.id),
            "video_id": str(deal.video_id),
            "variant_id": None if deal.variant_id is None else str(deal.variant_id),
            "price": {"amount": deal.price_amount, "currency": deal.merchant.currency},
            "starts_at": card_time(deal.starts_at),
            "ends_at": card_time(deal.ends_at),
            "remaining": deal.remaining,
            "per_buyer_limit": deal.per_buyer_limit,
        }
    return cards
