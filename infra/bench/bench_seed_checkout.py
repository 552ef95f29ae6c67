"""Reset and seed the catalog the checkout bench talks to; print the ids run.py needs.

Run by run.py in a subprocess, like `bench_seed.py` (whose helpers it uses), with
CATALOG_DATABASE_URL pointing at `clipcart_catalog_checkout_bench` (it refuses any other).
One merchant (EUR) with:

- `CHECKOUT_VARIANTS` products of one variant each, `LARGE_STOCK` units on hand: what the
  buy-now checkouts of scenario 1 take their 1-3 lines from;
- one flash-sale product whose single variant has exactly `FLASH_STOCK` units;
- the promotions sale's two products (issue 17), `FLASH_STOCK` units each: one plain, one
  with a flash deal on a video (`PROMO_VIDEO`, half price, 1 per buyer, `FLASH_STOCK` in
  total) and a code of `FLASH_STOCK` uses (10 % off, once per buyer) on it.

Prints one JSON object on its last stdout line.
"""

from __future__ import annotations

import json
import sys
import uuid

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
PROMO_CODE = "BENCH100"


def main() -> int:
    if not catalog_setup(BENCH_DATABASE):
        return 2

    from django.db import transaction
    from django.utils import timezone

    from products.models import Product, Variant
    from promotions.models import FlashDeal, Promotion

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
        plain_product, promo_product = Product.objects.bulk_create(
            [new_product(merchant, "Plain Sale Item"), new_product(merchant, "Promo Sale Item")]
        )
        plain, promo = Variant.objects.bulk_create(
            [
                new_variant(plain_product, "PLAIN-0001", 0, FLASH_STOCK),
                new_variant(promo_product, "PROMO-0001", 0, FLASH_STOCK),
            ]
        )
        video_id = uuid.uuid4()
        deal = FlashDeal.objects.create(
            merchant=merchant,
            product=promo_product,
            variant=promo,
            video_id=video_id,
            price_amount=promo.price_amount // 2,
            starts_at=timezone.now(),
            duration_minutes=120,
            per_buyer_limit=1,
            total_quantity=FLASH_STOCK,
        )
        code = Promotion.objects.create(
            merchant=merchant,
            name="10 % off the promo item",
            kind=Promotion.Kind.PERCENT,
            percent_off=10,
            applies_to=Promotion.AppliesTo.PRODUCTS,
            starts_at=timezone.now(),
            usage_limit=FLASH_STOCK,
            per_customer_limit=1,
            code=PROMO_CODE,
        )
        code.products.set([promo_product])
        catalog_publish([p.id for p in (*products, flash_product, plain_product, promo_product)])
    catalog_analyze()
    print(
        json.dumps(
            {
                "variants": [str(v.id) for v in variants],
                "flash_variant": str(flash.id),
                "flash_stock": FLASH_STOCK,
                "promo": {
                    "plain_variant": str(plain.id),
                    "variant": str(promo.id),
                    "video_id": str(video_id),
                    "deal_id": str(deal.id),
                    "code": PROMO_CODE,
                    "promotion_id": str(code.id),
                    "deal_price": deal.price_amount,
                },
            }
        )
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
