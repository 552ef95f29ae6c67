"""Promotions applied to a quote (ADR 32): what each line and each merchant's shipping
is discounted by, and which asked codes were refused and why.

The rule, per merchant part of the cart:
- at most one code (the buyer's) applies; when there is one, it replaces the automatic
  promotions that are not stackable; without one, the not-stackable automatic promotion
  giving the most applies;
- stackable automatic promotions apply on top, each on what is left to pay;
- a percent is of what the lines it applies to still cost (rounded half up); a fixed
  amount is at most that; free shipping takes the merchant's shipping fee off;
- a promotion's amount is split across its lines in proportion to what they still
  cost, by largest remainder (`clipcart_shared.money.allocate`), so the parts add up.
The minimum spend is of the merchant part at list prices. Nothing here holds a use:
`promotions.services` does that under lock when the stock is reserved.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from django.db.models import Q
from django.utils import timezone

from clipcart_shared.errors import ApplicationError
from clipcart_shared.money import allocate
from core.errors import CatalogErrorCode
from promotions.models import Promotion, PromotionCustomerUse

_MESSAGES = {
    CatalogErrorCode.PROMOTION_UNKNOWN: "There is no such code.",
    CatalogErrorCode.PROMOTION_NOT_STARTED: "This code is not valid yet.",
    CatalogErrorCode.PROMOTION_EXPIRED: "This code has expired.",
    CatalogErrorCode.PROMOTION_EXHAUSTED: "This code has been used up.",
    CatalogErrorCode.PROMOTION_ALREADY_USED: "You have already used this code.",
    CatalogErrorCode.PROMOTION_NOT_APPLICABLE: "This code does not apply to this cart.",
    CatalogErrorCode.PROMOTION_MINIMUM_NOT_MET: "The cart does not reach this code's minimum.",
}


def code_normalize(code: str) -> str:
    return code.strip().upper()


def promotion_refused_error(code: str, reason: CatalogErrorCode) -> ApplicationError:
    """422 with the refusal's own code, naming the code asked."""
    return ApplicationError(
        reason,
        _MESSAGES[reason],
        status=422,
        errors=[{"field": "code", "code": reason.value, "message": code}],
    )


@dataclass
class _Part:
    merchant_id: str
    currency: str
    indices: list[int]
    shipping_left: int


def _weights(
    promotion: Promotion,
    product_ids: set[str],
    part: _Part,
    lines: Sequence[dict[str, Any]],
    net: list[int],
) -> list[tuple[int, int]]:
    """(index, what it still costs) of the part's lines the promotion applies to;
    `product_ids` is its scope: product ids, or category ids for a category scope."""
    key = "category_id" if promotion.applies_to == Promotion.AppliesTo.CATEGORIES else "product_id"
    return [
        (index, net[index])
        for index in part.indices
        if promotion.applies_to == Promotion.AppliesTo.MERCHANT
        or lines[index].get(key) in product_ids
    ]


def _amount(promotion: Promotion, weights: list[tuple[int, int]], part: _Part) -> int:
    base = sum(weight for _, weight in weights)
    if promotion.kind == Promotion.Kind.PERCENT:
        return (base * (promotion.percent_off or 0) + 50) // 100
    if promotion.kind == Promotion.Kind.FIXED_AMOUNT:
        return min(promotion.amount_off or 0, base)
    return part.shipping_left


def _refusal(
    promotion: Promotion,
    *,
    now: datetime,
    held_by_customer: int,
    part: _Part | None,
    applicable: bool,
    list_subtotal: int,
) -> CatalogErrorCode | None:
    if promotion.starts_at > now:
        return CatalogErrorCode.PROMOTION_NOT_STARTED
    if promotion.ends_at is not None and promotion.ends_at <= now:
        return CatalogErrorCode.PROMOTION_EXPIRED
    if promotion.uses_left == 0:
        return CatalogErrorCode.PROMOTION_EXHAUSTED
    limit = promotion.per_customer_limit
    if limit is not None and held_by_customer >= limit:
        return CatalogErrorCode.PROMOTION_ALREADY_USED
    if part is None or not applicable:
        return CatalogErrorCode.PROMOTION_NOT_APPLICABLE
    if list_subtotal < promotion.minimum_spend_amount:
        return CatalogErrorCode.PROMOTION_MINIMUM_NOT_MET
    return None


def quote_promotions_apply(
    *,
    quote: dict[str, Any],
    codes: Sequence[str] = (),
    customer_id: str | None = None,
    now: datetime | None = None,
) -> dict[str, Any]:
    """The quote with `discount` and `net_total` on each line, `shipping_discount` on
    each merchant, the `discounts` that apply and the `codes_refused` ({code, reason}).

    Three queries whatever the lines and promotions: the merchants' promotions
    (automatic ones and the codes asked), their products, and the buyer's uses."""
    now = now or timezone.now()
    lines: list[dict[str, Any]] = quote["lines"]
    asked = list(dict.fromkeys(code_normalize(code) for code in codes if code.strip()))
    parts: dict[str, _Part] = {}
    for index, line in enumerate(lines):
        merchant_id = line["merchant_id"]
        if merchant_id not in parts:
            fee = next(m for m in quote["merchants"] if m["id"] == merchant_id)["shipping_fee"]
            parts[merchant_id] = _Part(merchant_id, fee["currency"], [], fee["amount"])
        parts[merchant_id].indices.append(index)
    wanted = Q(code__in=asked)
    if parts:
        wanted |= Q(
            code__isnull=True,
            single_use_codes=False,
            merchant_id__in=list(parts),
            starts_at__lte=now,
        ) & (Q(ends_at__isnull=True) | Q(ends_at__gt=now))
    promotions: list[Promotion] = list(
        Promotion.objects.filter(wanted).order_by("created_at", "id")
    )
    # Each promotion's scope (its products, or its categories; a generated single-use
    # code's are those of the promotion it was generated for), in one query.
    scope_owner = {
        promotion.id: promotion.batch_source_id or promotion.id for promotion in promotions
    }
    scopes: dict[uuid.UUID, set[str]] = {owner: set() for owner in scope_owner.values()}
    chosen_products = Promotion.products.through.objects.filter(
        promotion_id__in=list(scopes)
    ).values_list("promotion_id", "product_id")
    chosen_categories = Promotion.categories.through.objects.filter(
        promotion_id__in=list(scopes)
    ).values_list("promotion_id", "category_id")
    for owner_id, scope_id in chosen_products.union(chosen_categories, all=True):
        scopes[owner_id].add(str(scope_id))
    products_of = {promotion_id: scopes[owner] for promotion_id, owner in scope_owner.items()}
    held: dict[uuid.UUID, int] = {}
    if customer_id is not None and promotions:
        held = dict(
            PromotionCustomerUse.objects.filter(
                customer_id=customer_id, promotion__in=[p.id for p in promotions]
            ).values_list("promotion_id", "uses_held")
        )
    by_code = {promotion.code: promotion for promotion in promotions if promotion.code}
    net = [line["line_total"]["amount"] for line in lines]
    refused: list[dict[str, str]] = []
    chosen: dict[str, list[Promotion]] = {merchant_id: [] for merchant_id in parts}
    code_of_part: dict[str, Promotion] = {}

    def refusal(promotion: Promotion) -> CatalogErrorCode | None:
        part = parts.get(str(promotion.merchant_id))
        applicable = part is not None and bool(
            _weights(promotion, products_of[promotion.id], part, lines, net)
        )
        subtotal = sum(net[index] for index in part.indices) if part is not None else 0
        return _refusal(
            promotion,
            now=now,
            held_by_customer=held.get(promotion.id, 0),
            part=part,
            applicable=applicable,
            list_subtotal=subtotal,
        )

    for code in asked:
        promotion = by_code.get(code)
        reason = CatalogErrorCode.PROMOTION_UNKNOWN if promotion is None else refusal(promotion)
        if promotion is not None and reason is None and str(promotion.merchant_id) in code_of_part:
            reason = CatalogErrorCode.PROMOTION_NOT_APPLICABLE  # one code per merchant part
        if reason is not None:
            refused.append({"code": code, "reason": reason.value})
            continue
        assert promotion is not None
        code_of_part[str(promotion.merchant_id)] = promotion
    automatic = [p for p in promotions if p.code is None and refusal(p) is None]
    for merchant_id, part in parts.items():
        mine = [p for p in automatic if str(p.merchant_id) == merchant_id]
        first: Promotion | None = code_of_part.get(merchant_id)
        if first is None:
            candidates = [p for p in mine if not p.is_stackable]
            first = max(
                candidates,
                key=lambda p: _amount(p, _weights(p, products_of[p.id], part, lines, net), part),
                default=None,
            )
        chosen[merchant_id] = ([first] if first else []) + [p for p in mine if p.is_stackable]
    discounts = []
    line_discounts = [0] * len(lines)
    shipping_discounts: dict[str, int] = {}
    for merchant_id, part in parts.items():
        for promotion in chosen[merchant_id]:
            weights = _weights(promotion, products_of[promotion.id], part, lines, net)
            amount = _amount(promotion, weights, part)
            if amount == 0 and promotion.code is None:
                continue
            shares: list[dict[str, Any]] = []
            shipping = 0
            if promotion.kind == Promotion.Kind.FREE_SHIPPING:
                shipping = amount
                part.shipping_left -= amount
                shipping_discounts[merchant_id] = shipping_discounts.get(merchant_id, 0) + amount
            else:
                split = allocate(amount, [weight for _, weight in weights]) if weights else []
                for (index, _), share in zip(weights, split, strict=True):
                    net[index] -= share
                    line_discounts[index] += share
                    shares.append(
                        {"index": index, "amount": {"amount": share, "currency": part.currency}}
                    )
            discounts.append(
                {
                    "promotion_id": str(promotion.id),
                    "merchant_id": merchant_id,
                    "code": promotion.code,
                    "creator_id": str(promotion.creator_id) if promotion.creator_id else None,
                    "kind": promotion.kind,
                    "description": promotion.name,
                    "amount": {"amount": amount, "currency": part.currency},
                    "shipping": {"amount": shipping, "currency": part.currency},
                    "lines": shares,
                }
            )
    for index, line in enumerate(lines):
        currency = line["line_total"]["currency"]
        line["discount"] = {"amount": line_discounts[index], "currency": currency}
        line["net_total"] = {"amount": net[index], "currency": currency}
    for merchant in quote["merchants"]:
        merchant["shipping_discount"] = {
            "amount": shipping_discounts.get(merchant["id"], 0),
            "currency": merchant["shipping_fee"]["currency"],
        }
    return {**quote, "discounts": discounts, "codes_refused": refused}
