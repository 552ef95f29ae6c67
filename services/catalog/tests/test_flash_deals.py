"""Flash deals on a video: the price they put on a quote's lines (only for lines from
the deal's video, only while it runs, only within the buyer's and the total limits), and
the `flash_deal` the product cards show by the clock."""

from __future__ import annotations

import time
import uuid
from datetime import UTC, timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from products.models import Product
from products.services import product_changes_publish
from promotions.flash_admin import FlashDealForm
from promotions.flash_models import FlashDeal, FlashDealBuyerUse
from promotions.tasks import flash_deals_publish
from tests.factories import FlashDealFactory, ProductFactory, PromotionFactory, VariantFactory

pytestmark = pytest.mark.django_db


def _quote(client, lines, **extra):
    response = client.post(
        "/internal/v1/quotes/",
        {
            "lines": [
                {"variant_id": str(v.id), "quantity": q, "video_id": video and str(video)}
                for v, q, video in lines
            ],
            **extra,
        },
        format="json",
    )
    assert response.status_code == 200, response.content
    return response.json()


def test_a_line_from_the_deals_video_gets_the_deal_price(service_client):
    deal = FlashDealFactory(variant__price_amount=1200, price_amount=800)

    quote = _quote(service_client, [(deal.variant, 2, deal.video_id)], customer_id="ada")

    line = quote["lines"][0]
    assert line["unit_price"] == {"amount": 800, "currency": "EUR"}
    assert line["line_total"]["amount"] == 1600
    assert line["net_total"]["amount"] == 1600
    assert line["flash_deal"]["id"] == str(deal.id)
    assert line["flash_deal"]["list_price"] == {"amount": 1200, "currency": "EUR"}


@pytest.mark.parametrize("video", ["none", "other"])
def test_a_line_from_elsewhere_keeps_the_list_price(service_client, video):
    deal = FlashDealFactory(variant__price_amount=1200)
    video_id = None if video == "none" else uuid.uuid4()

    line = _quote(service_client, [(deal.variant, 1, video_id)])["lines"][0]

    assert line["unit_price"]["amount"] == 1200
    assert line["flash_deal"] is None


def test_a_deal_on_one_variant_leaves_the_others_at_list_price(service_client):
    deal = FlashDealFactory(variant__price_amount=1200)
    other = VariantFactory(product=deal.product, price_amount=1200)

    quote = _quote(service_client, [(deal.variant, 1, deal.video_id), (other, 1, deal.video_id)])

    assert [line["unit_price"]["amount"] for line in quote["lines"]] == [500, 1200]


@pytest.mark.parametrize(
    ("starts", "minutes"), [(timedelta(minutes=5), 20), (-timedelta(minutes=30), 20)]
)
def test_a_deal_not_started_or_ended_does_not_apply(service_client, starts, minutes):
    deal = FlashDealFactory(starts_at=timezone.now() + starts, duration_minutes=minutes)

    line = _quote(service_client, [(deal.variant, 1, deal.video_id)])["lines"][0]

    assert line["flash_deal"] is None
    assert line["unit_price"]["amount"] == deal.variant.price_amount


def test_more_than_the_buyer_may_still_take_is_at_list_price(service_client):
    deal = FlashDealFactory(per_buyer_limit=3)
    FlashDealBuyerUse.objects.create(deal=deal, customer_id="ada", units_held=2, unit_limit=3)

    fits = _quote(service_client, [(deal.variant, 1, deal.video_id)], customer_id="ada")
    too_many = _quote(service_client, [(deal.variant, 2, deal.video_id)], customer_id="ada")
    bob = _quote(service_client, [(deal.variant, 3, deal.video_id)], customer_id="bob")

    assert fits["lines"][0]["flash_deal"] is not None
    assert too_many["lines"][0]["flash_deal"] is None
    assert bob["lines"][0]["flash_deal"] is not None


def test_more_than_is_left_in_total_is_at_list_price(service_client):
    deal = FlashDealFactory(total_quantity=3, per_buyer_limit=5)
    FlashDeal.objects.filter(id=deal.id).update(units_reserved=1, units_consumed=1)

    assert (
        _quote(service_client, [(deal.variant, 2, deal.video_id)])["lines"][0]["flash_deal"] is None
    )
    assert _quote(service_client, [(deal.variant, 1, deal.video_id)])["lines"][0]["flash_deal"]


def test_a_promotion_applies_on_the_deal_price(service_client):
    deal = FlashDealFactory(variant__price_amount=2000, price_amount=1000)
    PromotionFactory(merchant=deal.merchant, code="TEN", percent_off=10)

    line = _quote(service_client, [(deal.variant, 1, deal.video_id)], codes=["TEN"])["lines"][0]

    assert (line["unit_price"]["amount"], line["discount"]["amount"]) == (1000, 100)
    assert line["net_total"]["amount"] == 900


def test_a_quote_with_deals_costs_the_same_queries_for_1_and_20_lines(service_client):
    def queries(count: int) -> int:
        deals = [FlashDealFactory() for _ in range(count)]
        PromotionFactory(merchant=deals[0].merchant, code=None)
        with CaptureQueriesContext(connection) as captured:
            quote = _quote(
                service_client,
                [(deal.variant, 1, deal.video_id) for deal in deals],
                customer_id="ada",
            )
        assert all(line["flash_deal"] for line in quote["lines"])
        return len(captured)

    assert queries(1) == queries(20)


def _listed(api_client, product_id):
    results = api_client.get("/api/v1/products/").json()["results"]
    return next(card for card in results if card["id"] == str(product_id))


def test_the_card_shows_a_running_deal_with_what_is_left(api_client):
    deal = FlashDealFactory(total_quantity=10, per_buyer_limit=2)
    FlashDeal.objects.filter(id=deal.id).update(units_reserved=3)
    product_changes_publish(product_ids=[deal.product_id])  # as a reservation does

    card = api_client.get(f"/api/v1/products/{deal.product_id}/").json()

    assert card["flash_deal"] == {
        "price": {"amount": 500, "currency": "EUR"},
        "ends_at": deal.ends_at.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
        "remaining": 7,
        "per_buyer_limit": 2,
        "video_id": str(deal.video_id),
        "variant_id": str(deal.variant_id),
    }
    assert _listed(api_client, deal.product_id)["flash_deal"]["remaining"] == 7


def test_a_deal_starts_and_ends_on_stored_pages_by_the_clock(api_client, settings):
    settings.FEED_MAX_STALENESS_SECONDS = 1
    soon = FlashDealFactory(starts_at=timezone.now() + timedelta(seconds=2))
    ending = FlashDealFactory(
        starts_at=timezone.now() - timedelta(minutes=1) + timedelta(seconds=2),
        duration_minutes=1,
    )

    before = [_listed(api_client, d.product_id)["flash_deal"] for d in (soon, ending)]
    time.sleep(3.2)  # no write in between: only the clock and the page's 1 s lifetime
    after = [_listed(api_client, d.product_id)["flash_deal"] for d in (soon, ending)]

    assert before[0] is None and before[1] is not None
    assert after[0] is not None and after[1] is None


def test_the_sweep_puts_the_next_deal_on_the_card_when_one_ends(api_client):
    first = FlashDealFactory()
    following = FlashDealFactory(
        variant=first.variant, starts_at=first.ends_at + timedelta(minutes=5)
    )
    assert Product.objects.get(id=first.product_id).card["flash_deal"]["id"] == (str(first.id))
    FlashDeal.objects.filter(id=first.id).update(
        starts_at=timezone.now() - timedelta(minutes=30), ends_at=timezone.now()
    )

    assert flash_deals_publish() == 1

    stored = Product.objects.get(id=first.product_id).card["flash_deal"]
    assert stored["id"] == str(following.id)


def _form(**overrides):
    variant = overrides.pop("variant", None) or VariantFactory(price_amount=1000)
    data = {
        "merchant": variant.merchant_id,
        "product": variant.product_id,
        "variant": variant.id,
        "video_id": str(uuid.uuid4()),
        "price_amount": 700,
        "starts_at": timezone.now().strftime("%Y-%m-%d %H:%M:%S"),
        "duration_minutes": 20,
        "per_buyer_limit": 2,
        "total_quantity": 10,
        **overrides,
    }
    return FlashDealForm(data=data), variant


def test_the_admin_form_takes_a_good_deal():
    form, _ = _form()
    assert form.is_valid(), form.errors


@pytest.mark.parametrize(
    ("overrides", "field"),
    [
        ({"price_amount": 1000}, "price_amount"),
        ({"duration_minutes": 121}, "duration_minutes"),
        ({"duration_minutes": 0}, "duration_minutes"),
        ({"per_buyer_limit": 0}, "per_buyer_limit"),
        ({"video_id": "not-a-video"}, "video_id"),
    ],
)
def test_the_admin_form_refuses_a_bad_deal(overrides, field):
    form, _ = _form(**overrides)
    assert not form.is_valid()
    assert field in form.errors


def test_the_admin_form_refuses_another_merchants_product_and_an_overlap():
    form, variant = _form()
    other = ProductFactory()
    foreign, _ = _form(variant=variant, product=other.id)
    assert not foreign.is_valid() and "product" in foreign.errors
    form.save()
    overlapping, _ = _form(variant=variant)
    assert not overlapping.is_valid() and "starts_at" in overlapping.errors
