"""Reset and seed the catalog the checkout bench talks to; print the ids run.py needs.

Run by run.py in a subprocess, like `bench_seed.py` (whose helpers it uses), with
CATALOG_DATABASE_URL pointing at `clipcart_catalog_checkout_bench` (it refuses any other).
One merchant (EUR) with:

- `CHECKOUT_VARIANTS` products of one variant each, `LARGE_STOCK` units on hand: what the
  buy-now checkouts of scenario 1 take their 1-3 lines from;
- one flash-sale product whose single variant has exactly `FLASH_STOCK` units.

Prints one JSON object on its last stdout line.
"""

from __future__ import annotations

import json
import sys

from bench_seed import (
    LARGE_STOCK,
    catalog_analyze,
    catalog_publish,
    catalog_reset,
    catalog_setup,
    new_product,
    new_variant,
)

BENCH_DATABASE = "clipcart_catalog_checkout_bench"
CHECKOUT_VARIANTS = 30
FLASH_STOCK = 100


def main() -> int:
    if not catalog_setup(BENCH_DATABASE):
        return 2

    from django.db import transaction

    from products.models import Product, Variant

    with transaction.atomic():
        merchant = catalog_reset()
        products = Product.objects.bulk_create(
            [new_product(merchant, f"Checkout Item {n:03d}") for n in range(CHECKOUT_VARIANTS)]
        )
        flash_product = Product.objects.bulk_create([new_product(merchant, "Flash Sale Item")])[0]
        variants = Variant.objects.bulk_create(
            [new_variant(owner, f"CHK-{n:03d}", n, LARGE_STOCK) for n, owner in enumerate(products)]
        )
        flash = Variant.objects.bulk_create(
            [new_variant(flash_product, "FLASH-0001", 0, FLASH_STOCK)]
        )[0]
        catalog_publish([p.id for p in (*products, flash_product)])
    catalog_analyze()
    print(
        json.dumps(
            {
                "variants": [str(v.id) for v in variants],
                "flash_variant": str(flash.id),
                "flash_stock": FLASH_STOCK,
            }
        )
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
