"""The checkout part, its promotions sale (issue 17): the flash sale again from carts,
once on a plain variant and once on a variant with a flash deal on a video and a code of
100 uses, 500 buyers each, in the same run. Exactly 100 paid, 0 oversold, 0 code or deal
unit used past its limit, and checkouts/s of the promotions sale against the plain one.

Each buyer fills their cart before the sale (not timed): the line from the deal's video
(the source; the bench runs no video service, so checkout keeps it unverified, as it
does when video is down), and for the promotions sale the code. The sale itself is
`flash_sale` from the carts.
"""

from __future__ import annotations

import http.client
import json
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any

from harness.load import exchange
from harness.setup import HOST, BenchError, query
from parts.flash_sale import FLASH_BUYERS, Sale, flash_orders, flash_sale

CART_FILLERS = 8  # threads filling the buyers' carts before a sale


def _post(port: int, authorization: str, path: str, body: dict[str, Any]) -> int | str:
    connection = http.client.HTTPConnection(HOST, port, timeout=60)
    headers = {"Authorization": authorization, "Content-Type": "application/json"}
    status, _ = exchange(connection, ("POST", path, json.dumps(body).encode(), headers))
    connection.close()
    return status


def carts_fill(
    port: int, authorizations: list[str], variant: str, video_id: str, code: str | None
) -> None:
    """Every buyer's cart: 1 unit of `variant` from the video, and the code if given."""

    def fill(authorization: str) -> list[int | str]:
        line = {"variant_id": variant, "quantity": 1, "source": {"video_id": video_id}}
        answers = [_post(port, authorization, "/api/v1/cart/lines/", line)]
        if code is not None:
            answers.append(_post(port, authorization, "/api/v1/cart/discount/", {"code": code}))
        return answers

    with ThreadPoolExecutor(CART_FILLERS) as pool:
        answers = Counter(a for filled in pool.map(fill, authorizations) for a in filled)
    if set(answers) - {200, 201}:
        raise BenchError(f"promotions sale: filling the carts answered {dict(answers)}")


@dataclass
class PromoSales:
    plain: Sale
    promo: Sale


def promo_sales(
    port: int, stripe_url: str, promo: dict[str, Any], crowds: tuple[list[str], list[str]]
) -> PromoSales:
    """The plain sale, then the promotions sale, each from carts filled just before."""
    plain_crowd, promo_crowd = crowds
    carts_fill(port, plain_crowd, promo["plain_variant"], promo["video_id"], None)
    print(f"bench: plain sale from carts, {FLASH_BUYERS} buyers …", flush=True)
    plain = flash_sale(
        port, stripe_url, promo["plain_variant"], plain_crowd, from_cart=True, name="plain sale"
    )
    carts_fill(port, promo_crowd, promo["variant"], promo["video_id"], promo["code"])
    print(f"bench: promotions sale (flash deal, {promo['code']}), {FLASH_BUYERS} buyers …")
    sale = flash_sale(
        port, stripe_url, promo["variant"], promo_crowd, from_cart=True, name="promotions sale"
    )
    return PromoSales(plain, sale)


def promo_check(
    sales: PromoSales, promo: dict[str, Any], stock: int, databases: tuple[str, str]
) -> tuple[list[str], list[str]]:
    """(lines to print, problems) of the promotions sale: paid orders of each variant, the
    code's and the deal's counters, the paid orders' prices, the rates' ratio."""
    checkout_database, catalog_database = databases
    paid = {
        kind: flash_orders(checkout_database, promo[key])["paid"]
        for kind, key in (("plain", "plain_variant"), ("promo", "variant"))
    }
    [(uses_reserved, uses_consumed)] = query(
        catalog_database,
        "SELECT uses_reserved, uses_consumed FROM promotions_promotion WHERE id = %s",
        [promo["promotion_id"]],
    )
    [(units_reserved, units_consumed)] = query(
        catalog_database,
        "SELECT units_reserved, units_consumed FROM promotions_flashdeal WHERE id = %s",
        [promo["deal_id"]],
    )
    [(deal_priced, discounted)] = query(
        checkout_database,
        "SELECT count(*) FILTER (WHERE l.unit_price_amount = %s), "
        "count(*) FILTER (WHERE l.discount_amount > 0) FROM orders_orderline l "
        "JOIN orders_order o ON o.id = l.order_id WHERE o.status = 'paid' AND l.variant_id = %s",
        [promo["deal_price"], promo["variant"]],
    )
    ratio = sales.promo.outcome.rate / sales.plain.outcome.rate if sales.plain.outcome.rate else 0
    lines = [
        f"promotions sale: {FLASH_BUYERS} buyers for {stock} units with a flash deal and a "
        f"{stock}-use code | paid {paid['promo']} (must be {stock}), oversold "
        f"{paid['promo'] - stock} | code uses {uses_consumed} paid + {uses_reserved} held "
        f"(must be {stock} + 0) | deal units {units_consumed} + {units_reserved} | paid at the "
        f"deal price {deal_priced}, with the code {discounted} | answers: "
        + ", ".join(f"{k}: {n}" for k, n in sorted(sales.promo.outcome.statuses.items(), key=str)),
        f"plain sale: paid {paid['plain']} (must be {stock}) | "
        f"{sales.plain.outcome.rate:,.1f} checkouts/s; promotions sale "
        f"{sales.promo.outcome.rate:,.1f} checkouts/s: {ratio:.2f} of the plain sale (aim 0.8)",
    ]
    problems = []
    if paid != {"plain": stock, "promo": stock}:
        problems.append(f"promotions sale: paid orders {paid}")
    if (uses_consumed, uses_reserved, units_consumed, units_reserved) != (stock, 0, stock, 0):
        problems.append("promotions sale: code uses or deal units do not add up")
    if (deal_priced, discounted) != (stock, stock):
        problems.append("promotions sale: a paid order without the deal price or the code")
    for sale in (sales.plain, sales.promo):
        if sale.payments != Counter({"succeeded": stock}):
            problems.append(f"{sale.outcome.name}: payments {dict(sale.payments)}")
    return lines, problems
