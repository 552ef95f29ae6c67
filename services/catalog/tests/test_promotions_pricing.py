"""Quotes with promotions: what each line and shipping is discounted by, and every
refusal of a code with its own reason."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from promotions.models import PromotionCustomerUse
from tests.factories import MerchantFactory, ProductFactory, PromotionFactory, VariantFactory

pytestmark = pytest.mark.django_db


def _quote(client, lines, **extra):
    response = client.post(
        "/internal/v1/quotes/",
        {"lines": [{"variant_id": str(v.id), "quantity": q} for v, q in lines], **extra},
        format="json",
    )
    assert response.status_code == 200, response.content
    return response.json()


@pytest.fixture
def shop():
    merchant = MerchantFactory(shipping_fee_amount=490)
    first = VariantFactory(product=ProductFactory(merchant=merchant), price_amount=1000)
    second = VariantFactory(product=ProductFactory(merchant=merchant), price_amount=333)
    return merchant, first, second


def test_a_percent_code_is_split_across_the_lines_by_largest_remainder(service_client, shop):
    merchant, first, second = shop
    promotion = PromotionFactory(merchant=merchant, code="SAVE10", percent_off=10)

    quote = _quote(service_client, [(first, 1), (second, 3)], codes=["save10"])

    # 10 % of 1999, rounded half up: 200, split 1000 : 999.
    assert [line["discount"]["amount"] for line in quote["lines"]] == [100, 100]
    assert [line["net_total"]["amount"] for line in quote["lines"]] == [900, 899]
    assert quote["codes_refused"] == []
    assert quote["discounts"] == [
        {
            "promotion_id": str(promotion.id),
            "merchant_id": str(merchant.id),
            "code": "SAVE10",
            "creator_id": None,
            "kind": "percent",
            "description": "10 % off",
            "amount": {"amount": 200, "currency": "EUR"},
            "shipping": {"amount": 0, "currency": "EUR"},
            "lines": [
                {"index": 0, "amount": {"amount": 100, "currency": "EUR"}},
                {"index": 1, "amount": {"amount": 100, "currency": "EUR"}},
            ],
        }
    ]


def test_a_fixed_amount_on_chosen_products_never_exceeds_them(service_client, shop):
    merchant, first, second = shop
    promotion = PromotionFactory(
        merchant=merchant, code="FIVER", kind="fixed_amount", percent_off=None, amount_off=500
    )
    promotion.applies_to = "products"
    promotion.save()
    promotion.products.set([second.product])

    quote = _quote(service_client, [(first, 1), (second, 1)], codes=["FIVER"])

    assert [line["discount"]["amount"] for line in quote["lines"]] == [0, 333]
    assert quote["discounts"][0]["amount"]["amount"] == 333


def test_free_shipping_over_a_minimum_takes_the_fee_off(service_client, shop):
    merchant, first, _ = shop
    PromotionFactory(
        merchant=merchant,
        code=None,
        kind="free_shipping",
        percent_off=None,
        minimum_spend_amount=2000,
        name="Free shipping over 20",
    )

    below = _quote(service_client, [(first, 1)])
    above = _quote(service_client, [(first, 2)])

    assert below["discounts"] == [] and below["merchants"][0]["shipping_discount"]["amount"] == 0
    assert above["merchants"][0]["shipping_discount"] == {"amount": 490, "currency": "EUR"}
    assert above["discounts"][0]["code"] is None
    assert [line["discount"]["amount"] for line in above["lines"]] == [0]


def test_a_code_replaces_a_plain_automatic_promotion_and_a_stackable_one_adds(service_client, shop):
    merchant, first, _ = shop
    PromotionFactory(merchant=merchant, code=None, percent_off=50, name="half")
    PromotionFactory(
        merchant=merchant,
        code=None,
        kind="fixed_amount",
        percent_off=None,
        amount_off=100,
        is_stackable=True,
        name="one off",
    )
    PromotionFactory(merchant=merchant, code="TEN", percent_off=10)

    without_code = _quote(service_client, [(first, 1)])
    with_code = _quote(service_client, [(first, 1)], codes=["TEN"])

    assert [d["description"] for d in without_code["discounts"]] == ["half", "one off"]
    assert without_code["lines"][0]["net_total"]["amount"] == 1000 - 500 - 100
    assert [d["code"] for d in with_code["discounts"]] == ["TEN", None]
    assert with_code["lines"][0]["net_total"]["amount"] == 1000 - 100 - 100


@pytest.mark.parametrize(
    ("promotion", "reason"),
    [
        ({"code": "OTHER"}, "promotion_unknown"),
        ({"starts_at": timezone.now() + timedelta(days=1)}, "promotion_not_started"),
        (
            {
                "starts_at": timezone.now() - timedelta(days=2),
                "ends_at": timezone.now() - timedelta(days=1),
            },
            "promotion_expired",
        ),
        ({"usage_limit": 0}, "promotion_exhausted"),
        ({"minimum_spend_amount": 100_000}, "promotion_minimum_not_met"),
        ({"merchant": None}, "promotion_not_applicable"),
    ],
)
def test_each_refused_code_names_its_reason_and_applies_nothing(
    service_client, shop, promotion, reason
):
    merchant, first, _ = shop
    fields = {"merchant": merchant, "code": "ASKED", **promotion}
    if fields["merchant"] is None:
        fields["merchant"] = MerchantFactory()
    PromotionFactory(**fields)

    quote = _quote(service_client, [(first, 1)], codes=["ASKED"])

    assert quote["codes_refused"] == [{"code": "ASKED", "reason": reason}]
    assert quote["discounts"] == []
    assert quote["lines"][0]["net_total"]["amount"] == 1000


def test_a_buyer_at_their_limit_is_told_already_used(service_client, shop):
    merchant, first, _ = shop
    promotion = PromotionFactory(merchant=merchant, code="ONCE", per_customer_limit=1)
    PromotionCustomerUse.objects.create(
        promotion=promotion, customer_id="ada", uses_held=1, use_limit=1
    )

    theirs = _quote(service_client, [(first, 1)], codes=["ONCE"], customer_id="ada")
    others = _quote(service_client, [(first, 1)], codes=["ONCE"], customer_id="bob")

    assert theirs["codes_refused"] == [{"code": "ONCE", "reason": "promotion_already_used"}]
    assert others["codes_refused"] == []


def test_quote_queries_do_not_grow_with_lines_or_promotions(service_client):
    def queries(count: int) -> int:
        merchant = MerchantFactory()
        variants = [VariantFactory(product=ProductFactory(merchant=merchant)) for _ in range(count)]
        for index in range(count):
            promotion = PromotionFactory(merchant=merchant, code=None, is_stackable=True)
            promotion.applies_to = "products"
            promotion.save()
            promotion.products.set([variants[index].product])
        with CaptureQueriesContext(connection) as captured:
            quote = _quote(service_client, [(v, 1) for v in variants], customer_id="ada")
        assert len(quote["discounts"]) == count
        return len(captured)

    assert queries(1) == queries(20)


def test_product_cards_carry_a_null_flash_deal(api_client, shop):
    _, first, _ = shop

    listed = api_client.get("/api/v1/products/").json()["results"]
    detail = api_client.get(f"/api/v1/products/{first.product_id}/").json()

    assert all(card["flash_deal"] is None for card in listed)
    assert detail["flash_deal"] is None
