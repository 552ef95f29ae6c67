"""Demo data for a local run: categories, two merchants, their staff, a dozen products.

Idempotent: it only creates what is missing and never overwrites what exists, so edits
made in the admin survive the next `make run` (one exception: a demo product with no
category, seeded before categories existed, is given its demo category). Ids are uuid5
of fixed names, the same on every machine, so other services' demo data can refer to
these products:
`demo_id("product", "alpine-trail-runner")`.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand
from django.db import transaction

from clipcart_shared.merchant_access.demo_logins import demo_seed_refuse_in_production
from core.admin import merchant_staff_group_ensure
from inventory.models import StockMovement
from merchants.models import Merchant
from products.models import Category, Product, Variant
from products.services import product_changes_publish
from promotions.models import Promotion

DEMO_NAMESPACE = uuid.uuid5(uuid.NAMESPACE_DNS, "demo.clipcart.dev")
IMAGE_BASE = "https://images.clipcart.dev/demo/"

SUPERUSER = ("platform", "platform-demo")


def demo_id(kind: str, slug: str) -> uuid.UUID:
    """The fixed id of a demo merchant, product or variant (`kind`) named by its slug/SKU."""
    return uuid.uuid5(DEMO_NAMESPACE, f"{kind}:{slug}")


@dataclass(frozen=True)
class DemoVariant:
    sku: str
    title: str
    options: dict[str, str]
    price_amount: int
    quantity_on_hand: int


# (slug, name) of the platform's demo categories; products refer to them by slug.
CATEGORIES = (
    ("beauty", "Beauty"),
    ("fashion", "Fashion"),
    ("fitness", "Fitness"),
    ("home", "Home"),
    ("kitchen", "Kitchen & dining"),
    ("outdoor", "Outdoor"),
)


@dataclass(frozen=True)
class DemoProduct:
    slug: str
    title: str
    description: str
    variants: tuple[DemoVariant, ...]
    category: str


@dataclass(frozen=True)
class DemoMerchant:
    slug: str
    name: str
    currency: str
    shipping_fee_amount: int
    staff: tuple[str, str]
    products: tuple[DemoProduct, ...]


V = DemoVariant
P = DemoProduct

MERCHANTS = (
    DemoMerchant(
        slug="alpine",
        name="Alpine Outfitters",
        currency="EUR",
        shipping_fee_amount=490,
        staff=("alpine", "alpine-demo"),
        products=(
            P(
                "alpine-trail-runner",
                "Trail Runner GTX",
                "A waterproof trail shoe with a grippy lug sole for wet rock and mud.",
                (
                    V("ALP-TRAIL-41", "EU 41", {"size": "41"}, 13900, 12),
                    V("ALP-TRAIL-43", "EU 43", {"size": "43"}, 13900, 3),
                    V("ALP-TRAIL-45", "EU 45", {"size": "45"}, 13900, 0),
                ),
                "fashion",
            ),
            P(
                "alpine-merino-beanie",
                "Merino Beanie",
                "Soft, itch-free merino wool that stays warm when damp.",
                (
                    V("ALP-BEANIE-CHR", "Charcoal", {"colour": "charcoal"}, 2900, 40),
                    V("ALP-BEANIE-FOR", "Forest", {"colour": "forest"}, 2900, 18),
                ),
                "fashion",
            ),
            P(
                "alpine-down-jacket",
                "Featherlight Down Jacket",
                "800-fill responsibly sourced down; packs into its own pocket.",
                (
                    V("ALP-DOWN-S", "S", {"size": "S"}, 24900, 6),
                    V("ALP-DOWN-M", "M", {"size": "M"}, 24900, 9),
                    V("ALP-DOWN-L", "L", {"size": "L"}, 24900, 4),
                ),
                "fashion",
            ),
            P(
                "alpine-trekking-poles",
                "Carbon Trekking Poles",
                "A pair of three-section carbon poles with cork grips, 390 g together.",
                (
                    V("ALP-POLES-115", "115 cm", {"length": "115 cm"}, 8900, 15),
                    V("ALP-POLES-125", "125 cm", {"length": "125 cm"}, 8900, 22),
                ),
                "outdoor",
            ),
            P(
                "alpine-summit-daypack",
                "Summit Daypack 28 L",
                "A ventilated back panel, hip belt pockets and a rain cover tucked in the base.",
                (
                    V("ALP-PACK-SLT", "Slate", {"colour": "slate"}, 11900, 14),
                    V("ALP-PACK-EMB", "Ember", {"colour": "ember"}, 11900, 7),
                ),
                "outdoor",
            ),
            P(
                "alpine-insulated-bottle",
                "Insulated Bottle 750 ml",
                "Double-walled steel: cold for 24 hours, hot for 12.",
                (
                    V("ALP-BOTTLE-GLA", "Glacier", {"colour": "glacier"}, 3400, 30),
                    V("ALP-BOTTLE-BLK", "Black", {"colour": "black"}, 3400, 25),
                    V("ALP-BOTTLE-SND", "Sand", {"colour": "sand"}, 3400, 0),
                ),
                "fitness",
            ),
        ),
    ),
    DemoMerchant(
        slug="harbor",
        name="Harbor Home",
        currency="EUR",
        shipping_fee_amount=0,
        staff=("harbor", "harbor-demo"),
        products=(
            P(
                "harbor-linen-duvet-cover",
                "Stonewashed Linen Duvet Cover",
                "European flax linen, stonewashed for a soft, lived-in feel.",
                (
                    V("HRB-DUVET-SGL", "Single", {"size": "single"}, 8900, 11),
                    V("HRB-DUVET-DBL", "Double", {"size": "double"}, 11900, 16),
                    V("HRB-DUVET-KNG", "King", {"size": "king"}, 13900, 2),
                ),
                "home",
            ),
            P(
                "harbor-stoneware-mugs",
                "Stoneware Mug Set of 4",
                "Hand-glazed stoneware mugs, 350 ml each, dishwasher safe.",
                (
                    V("HRB-MUGS-SEA", "Sea salt", {"colour": "sea salt"}, 4200, 20),
                    V("HRB-MUGS-INK", "Ink", {"colour": "ink"}, 4200, 0),
                ),
                "kitchen",
            ),
            P(
                "harbor-wool-throw",
                "Wool Throw Blanket",
                "A heavy herringbone throw woven from undyed lambswool, 130 by 180 cm.",
                (
                    V("HRB-THROW-OAT", "Oatmeal", {"colour": "oatmeal"}, 7900, 9),
                    V("HRB-THROW-RST", "Rust", {"colour": "rust"}, 7900, 5),
                ),
                "home",
            ),
            P(
                "harbor-teak-serving-board",
                "Teak Serving Board",
                "End-grain reclaimed teak, oiled by hand, with a juice groove.",
                (
                    V("HRB-BOARD-M", "Medium", {"size": "medium"}, 4900, 13),
                    V("HRB-BOARD-L", "Large", {"size": "large"}, 6900, 8),
                ),
                "kitchen",
            ),
            P(
                "harbor-sea-fig-candle",
                "Sea Fig Scented Candle",
                "Rapeseed wax with notes of fig leaf and sea air, in a reusable glass.",
                (
                    V("HRB-CANDLE-200", "200 g", {"size": "200 g"}, 2400, 35),
                    V("HRB-CANDLE-400", "400 g", {"size": "400 g"}, 3900, 1),
                ),
                "home",
            ),
            P(
                "harbor-waffle-towels",
                "Waffle Cotton Towel Set",
                "Quick-drying waffle-weave organic cotton: two bath and two hand towels.",
                (
                    V("HRB-TOWEL-WHT", "White", {"colour": "white"}, 5900, 24),
                    V("HRB-TOWEL-SGE", "Sage", {"colour": "sage"}, 5900, 10),
                    V("HRB-TOWEL-DUN", "Dune", {"colour": "dune"}, 5900, 0),
                ),
                "home",
            ),
        ),
    ),
)


class Command(BaseCommand):
    help = "Create the demo merchants, staff logins and products (idempotent)."

    def handle(self, *args: Any, **options: Any) -> None:
        demo_seed_refuse_in_production()
        with transaction.atomic():
            created = self._seed()
        if not any(created.values()):
            self.stdout.write("Demo data already seeded; nothing changed.")
            return
        self.stdout.write(
            self.style.SUCCESS(
                "Demo data seeded: {users} users, {merchants} merchants, {products} products, "
                "{variants} variants, {categories} categories, {promotions} promotions created; "
                "{categorised} existing products given a category.".format(**created)
            )
        )

    def _seed(self) -> dict[str, int]:
        created = {
            "users": 0,
            "merchants": 0,
            "products": 0,
            "variants": 0,
            "categories": 0,
            "categorised": 0,
            "promotions": 0,
        }
        users = get_user_model()._default_manager
        group = merchant_staff_group_ensure()
        username, password = SUPERUSER
        if not users.filter(username=username).exists():
            users.create_superuser(username=username, password=password, email="")
            created["users"] += 1
        categories: dict[str, Category] = {}
        for slug, name in CATEGORIES:
            categories[slug], category_created = Category.objects.get_or_create(
                slug=slug, defaults={"id": demo_id("category", slug), "name": name}
            )
            created["categories"] += category_created
        new_products: list[uuid.UUID] = []
        for spec in MERCHANTS:
            merchant, merchant_created = Merchant.objects.get_or_create(
                slug=spec.slug,
                defaults={
                    "id": demo_id("merchant", spec.slug),
                    "name": spec.name,
                    "currency": spec.currency,
                    "shipping_fee_amount": spec.shipping_fee_amount,
                },
            )
            created["merchants"] += merchant_created
            username, password = spec.staff
            user = users.filter(username=username).first()
            if user is None:
                user = users.create_user(username=username, password=password, is_staff=True)
                created["users"] += 1
            user.groups.add(group)
            merchant.staff.add(user)
            created["promotions"] += self._seed_code(merchant)
            for product_spec in spec.products:
                category = categories[product_spec.category]
                if self._create_product(merchant, category, product_spec, created):
                    new_products.append(demo_id("product", product_spec.slug))
                elif self._categorise_product(category, product_spec):
                    created["categorised"] += 1
                    new_products.append(demo_id("product", product_spec.slug))
        if new_products:
            product_changes_publish(product_ids=new_products)
        return created

    def _seed_code(self, merchant: Merchant) -> bool:
        """A code per demo merchant (`ALPINE10`, `HARBOR10`): 10 % off its part of a cart,
        once per buyer, 100 uses. Automatic promotions are left out on purpose: they
        would change every demo and test price."""
        _, is_created = Promotion.objects.get_or_create(
            code=f"{merchant.slug.upper()}10",
            defaults={
                "id": demo_id("promotion", merchant.slug),
                "merchant": merchant,
                "name": "10 % off (demo code)",
                "kind": Promotion.Kind.PERCENT,
                "percent_off": 10,
                "starts_at": datetime(2025, 1, 1, tzinfo=UTC),
                "usage_limit": 100,
                "per_customer_limit": 1,
            },
        )
        return is_created

    def _categorise_product(self, category: Category, spec: DemoProduct) -> bool:
        """Give a demo product seeded before categories existed its category."""
        return bool(
            Product.objects.filter(id=demo_id("product", spec.slug), category__isnull=True).update(
                category=category
            )
        )

    def _create_product(
        self, merchant: Merchant, category: Category, spec: DemoProduct, created: dict[str, int]
    ) -> bool:
        """Create the product with its variants unless it exists: an existing one is left
        as the admin last saved it."""
        product, product_created = Product.objects.get_or_create(
            id=demo_id("product", spec.slug),
            defaults={
                "merchant": merchant,
                "category": category,
                "title": spec.title,
                "description": spec.description,
                "images": [f"{IMAGE_BASE}{spec.slug}.jpg"],
                "status": Product.Status.ACTIVE,
            },
        )
        if not product_created:
            return False
        Variant.objects.bulk_create(
            Variant(
                id=demo_id("variant", f"{merchant.slug}/{variant.sku}"),
                product=product,
                merchant=merchant,
                sku=variant.sku,
                title=variant.title,
                options=variant.options,
                price_amount=variant.price_amount,
                quantity_on_hand=variant.quantity_on_hand,
                position=position,
            )
            for position, variant in enumerate(spec.variants)
        )
        # Every on-hand level starts somewhere in the movement log (ADR 13).
        StockMovement.objects.bulk_create(
            StockMovement(
                variant_id=demo_id("variant", f"{merchant.slug}/{variant.sku}"),
                kind=StockMovement.Kind.COUNTED,
                delta=variant.quantity_on_hand,
                on_hand_after=variant.quantity_on_hand,
                actor="system:seed_demo",
            )
            for variant in spec.variants
            if variant.quantity_on_hand
        )
        created["products"] += 1
        created["variants"] += len(spec.variants)
        return True
