"""Reset the bench database's catalog tables and seed them; print the ids run.py needs.

Run by run.py in a subprocess (DJANGO_SETTINGS_MODULE=bench_settings, CATALOG_DATABASE_URL
pointing at `clipcart_catalog_bench`). Prints one JSON object on its last stdout line.

The helpers (`catalog_setup`, `catalog_reset`, `new_product`, `new_variant`,
`catalog_publish`) are shared with `bench_seed_checkout.py`, which seeds the catalog the
checkout bench talks to.
"""

from __future__ import annotations

import json
import os
import sys
import uuid
from collections.abc import Iterable
from typing import TYPE_CHECKING

import django

if TYPE_CHECKING:
    from merchants.models import Merchant
    from products.models import Product, Variant

BENCH_DATABASE = "clipcart_catalog_bench"
LIST_PRODUCTS = 50
VARIANTS_PER_PRODUCT = 3
DISTINCT_VARIANTS = 200
LARGE_STOCK = 1_000_000
SIZES = ("S", "M", "L")


def catalog_setup(database: str) -> bool:
    """`django.setup()`, if CATALOG_DATABASE_URL names `database`; refuse any other."""
    url = os.environ.get("CATALOG_DATABASE_URL", "")
    if not url.rstrip("/").split("?")[0].endswith(f"/{database}"):
        print(f"refusing to seed {url!r}: not the bench database", file=sys.stderr)
        return False
    django.setup()
    return True


def catalog_reset() -> Merchant:
    """Empty every table a seed fills (call inside `transaction.atomic()`); the bench
    merchant, created afresh."""
    from django.db import connection

    from clipcart_shared.idempotency.models import IdempotencyKey
    from clipcart_shared.outbox.models import OutboxEvent, ProcessedEvent
    from inventory.models import Reservation, ReservationLine
    from merchants.models import Merchant
    from products.models import Product, Variant

    wiped = [
        ReservationLine,
        Reservation,
        OutboxEvent,
        ProcessedEvent,
        IdempotencyKey,
        Variant,
        Product,
        Merchant,
    ]
    tables = ", ".join(connection.ops.quote_name(m._meta.db_table) for m in wiped)
    with connection.cursor() as cursor:
        cursor.execute(f"TRUNCATE {tables} CASCADE")
    return Merchant.objects.create(
        name="Bench Outfitters",
        slug="bench-outfitters",
        currency="EUR",
        shipping_fee_amount=490,
        # A bench client buys the same variants again and again: no cap per buyer here.
        max_units_per_buyer=1_000_000,
    )


def new_product(merchant: Merchant, title: str) -> Product:
    """An active product (unsaved: bulk_create them)."""
    from products.models import Product

    return Product(
        merchant=merchant,
        title=title,
        description=f"{title}: sturdy, light and made to last. " * 3,
        images=[
            f"https://img.example.com/bench/{title.lower().replace(' ', '-')}-{n}.jpg"
            for n in (1, 2)
        ],
        status=Product.Status.ACTIVE,
    )


def new_variant(owner: Product, sku: str, position: int, stock: int) -> Variant:
    """A variant of `owner` with `stock` units on hand (unsaved: bulk_create them)."""
    from products.models import Variant

    return Variant(
        product=owner,
        merchant=owner.merchant,
        sku=sku,
        title=SIZES[position % len(SIZES)],
        options={"size": SIZES[position % len(SIZES)]},
        price_amount=1990 + 100 * position,
        quantity_on_hand=stock,
        position=position,
    )


def catalog_publish(product_ids: Iterable[uuid.UUID]) -> None:
    """As every real write path does: compute and store the cards the API serves (call
    inside the seed's transaction)."""
    from products.services import product_changes_publish

    product_changes_publish(product_ids=product_ids)


def catalog_analyze() -> None:
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute("ANALYZE")


def main() -> int:
    if not catalog_setup(BENCH_DATABASE):
        return 2

    from django.db import transaction

    from products.models import Product, Variant

    with transaction.atomic():
        merchant = catalog_reset()
        # Reservation targets first, so the 50 list products are the newest (page one).
        hot_product = Product.objects.bulk_create([new_product(merchant, "Hot Item")])[0]
        distinct_products = Product.objects.bulk_create(
            [new_product(merchant, f"Reserve Item {n:03d}") for n in range(DISTINCT_VARIANTS)]
        )
        list_products = Product.objects.bulk_create(
            [new_product(merchant, f"Bench Product {n:03d}") for n in range(LIST_PRODUCTS)]
        )
        hot = Variant.objects.bulk_create([new_variant(hot_product, "HOT-0001", 0, LARGE_STOCK)])[0]
        distinct = Variant.objects.bulk_create(
            [
                new_variant(owner, f"RES-{n:04d}", 0, LARGE_STOCK)
                for n, owner in enumerate(distinct_products)
            ]
        )
        # A mix of in-stock, low-stock and sold-out variants, as a real listing has.
        stock_levels = (40, 3, 0, 12, 25, 1)
        Variant.objects.bulk_create(
            [
                new_variant(
                    owner,
                    f"LST-{n:03d}-{position}",
                    position,
                    stock_levels[(n + position) % len(stock_levels)],
                )
                for n, owner in enumerate(list_products)
                for position in range(VARIANTS_PER_PRODUCT)
            ]
        )
        catalog_publish([p.id for p in (hot_product, *distinct_products, *list_products)])
    catalog_analyze()
    print(
        json.dumps(
            {
                "hot_variant": str(hot.id),
                "distinct_variants": [str(v.id) for v in distinct],
                "list_products": len(list_products),
            }
        )
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
