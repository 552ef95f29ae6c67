"""Promotions scoped to categories: only the merchant's lines whose product is in one of
the chosen categories are discounted, in quotes and at the admin's form."""

from __future__ import annotations

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from promotions.models import Promotion
from tests.admin_pages import ADMIN
from tests.factories import (
    CategoryFactory,
    MerchantFactory,
    ProductFactory,
    PromotionFactory,
    VariantFactory,
)

pytestmark = pytest.mark.django_db


def _quote(client, lines, **extra):
    response = client.post(
        "/internal/v1/quotes/",
        {"lines": [{"variant_id": str(v.id), "quantity": q} for v, q in lines], **extra},
        format="json",
    )
    assert response.status_code == 200, response.content
    return response.json()


def _on_categories(merchant, categories, **fields):
    promotion = PromotionFactory(merchant=merchant, applies_to="categories", **fields)
    promotion.categories.set(categories)
    return promotion


def test_a_category_code_discounts_only_the_lines_in_its_categories(service_client):
    merchant = MerchantFactory()
    shoes, hats, bags = CategoryFactory(), CategoryFactory(), CategoryFactory()
    shoe = VariantFactory(
        product=ProductFactory(merchant=merchant, category=shoes), price_amount=1000
    )
    hat = VariantFactory(product=ProductFactory(merchant=merchant, category=hats), price_amount=500)
    bag = VariantFactory(product=ProductFactory(merchant=merchant, category=bags), price_amount=800)
    bare = VariantFactory(
        product=ProductFactory(merchant=merchant, category=None), price_amount=300
    )
    _on_categories(merchant, [shoes, hats], code="FEET20", percent_off=20)

    quote = _quote(service_client, [(shoe, 1), (hat, 2), (bag, 1), (bare, 1)], codes=["FEET20"])

    # 20 % of 1000 + 1000 = 400, split 1000 : 1000; the bag and the bare product pay full.
    assert [line["discount"]["amount"] for line in quote["lines"]] == [200, 200, 0, 0]
    assert [line["category_id"] for line in quote["lines"]] == [
        str(shoes.id),
        str(hats.id),
        str(bags.id),
        None,
    ]
    assert quote["codes_refused"] == []
    assert quote["discounts"][0]["amount"]["amount"] == 400


def test_a_category_code_with_no_line_in_its_categories_is_not_applicable(service_client):
    merchant = MerchantFactory()
    shoes, bags = CategoryFactory(), CategoryFactory()
    bag = VariantFactory(product=ProductFactory(merchant=merchant, category=bags))
    _on_categories(merchant, [shoes], code="FEET20", percent_off=20)

    quote = _quote(service_client, [(bag, 1)], codes=["FEET20"])

    assert quote["codes_refused"] == [{"code": "FEET20", "reason": "promotion_not_applicable"}]
    assert quote["discounts"] == []


def test_another_merchants_product_in_the_category_is_not_discounted(service_client):
    mine, theirs = MerchantFactory(), MerchantFactory()
    shoes = CategoryFactory()
    my_shoe = VariantFactory(
        product=ProductFactory(merchant=mine, category=shoes), price_amount=1000
    )
    their_shoe = VariantFactory(
        product=ProductFactory(merchant=theirs, category=shoes), price_amount=1000
    )
    _on_categories(mine, [shoes], code=None, percent_off=10)

    quote = _quote(service_client, [(my_shoe, 1), (their_shoe, 1)])

    assert [line["discount"]["amount"] for line in quote["lines"]] == [100, 0]


def test_quote_queries_do_not_grow_with_category_promotions(service_client):
    def queries(count: int) -> int:
        merchant = MerchantFactory()
        categories = [CategoryFactory() for _ in range(count)]
        variants = [
            VariantFactory(product=ProductFactory(merchant=merchant, category=category))
            for category in categories
        ]
        for category in categories:
            _on_categories(merchant, [category], code=None, is_stackable=True)
        with CaptureQueriesContext(connection) as captured:
            quote = _quote(service_client, [(v, 1) for v in variants], customer_id="ada")
        assert len(quote["discounts"]) == count
        return len(captured)

    assert queries(1) == queries(20)


def test_the_admin_refuses_a_category_scope_without_categories(client, staff_user, merchant_a):
    client.force_login(staff_user)
    form = {
        "merchant": str(merchant_a.id),
        "name": "Shoes",
        "code": "SHOES5",
        "kind": "percent",
        "percent_off": "5",
        "amount_off": "",
        "applies_to": "categories",
        "minimum_spend_amount": "0",
        "starts_at_0": "2026-01-01",
        "starts_at_1": "00:00:00",
        "ends_at_0": "",
        "ends_at_1": "",
        "usage_limit": "",
        "per_customer_limit": "",
    }

    refused = client.post(f"{ADMIN}/promotions/promotion/add/", form)
    shoes = CategoryFactory()
    added = client.post(
        f"{ADMIN}/promotions/promotion/add/", {**form, "categories": [str(shoes.id)]}
    )

    assert refused.status_code == 200
    assert "Choose the categories it applies to." in refused.content.decode()
    assert added.status_code == 302, added.content.decode()[:2000]
    promotion = Promotion.objects.get(code="SHOES5")
    assert list(promotion.categories.all()) == [shoes]
