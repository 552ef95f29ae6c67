"""Uses of a promotion move with the stock reservation: held, consumed on commit, given
back on release and expiry; raced on purpose by real threads on the real PostgreSQL."""

from __future__ import annotations

from collections import Counter
from datetime import timedelta

import pytest
from django.db import IntegrityError, transaction
from django.utils import timezone
from rest_framework.test import APIClient

from clipcart_shared.auth import service_token_mint
from inventory.models import Reservation, ReservationPromotion
from inventory.services import reservations_expire
from promotions.models import Promotion, PromotionCustomerUse
from tests.factories import PromotionFactory, VariantFactory
from tests.test_reservation_concurrency import run_concurrently


def _client() -> APIClient:
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Service {service_token_mint(service='checkout')}")
    return client


def _reserve(variant, promotion, *, key, customer_id="ada"):
    return _client().post(
        "/internal/v1/reservations/",
        {
            "key": key,
            "lines": [{"variant_id": str(variant.id), "quantity": 1}],
            "promotions": [str(promotion.id)],
            "customer_id": customer_id,
        },
        format="json",
    )


def _uses(promotion) -> tuple[int, int]:
    promotion.refresh_from_db()
    return promotion.uses_reserved, promotion.uses_consumed


@pytest.mark.django_db
def test_a_use_is_held_with_the_stock_consumed_on_commit():
    variant = VariantFactory(quantity_on_hand=5)
    promotion = PromotionFactory(merchant=variant.merchant, usage_limit=3, per_customer_limit=2)

    response = _reserve(variant, promotion, key="order-1")

    assert response.status_code == 201, response.content
    assert response.json()["promotions"] == [str(promotion.id)]
    assert _uses(promotion) == (1, 0)
    reservation_id = response.json()["id"]
    assert _client().post(f"/internal/v1/reservations/{reservation_id}/commit/").status_code == 200
    assert _uses(promotion) == (0, 1)
    assert PromotionCustomerUse.objects.get(promotion=promotion).uses_held == 1


@pytest.mark.django_db
def test_release_and_expiry_give_the_uses_back_to_the_promotion_and_the_buyer():
    variant = VariantFactory(quantity_on_hand=5)
    promotion = PromotionFactory(merchant=variant.merchant, usage_limit=3, per_customer_limit=2)
    released = _reserve(variant, promotion, key="order-1").json()["id"]
    _reserve(variant, promotion, key="order-2")

    _client().post(f"/internal/v1/reservations/{released}/release/")
    Reservation.objects.filter(key="order-2").update(expires_at=timezone.now() - timedelta(1))
    reservations_expire()

    assert _uses(promotion) == (0, 0)
    assert PromotionCustomerUse.objects.get(promotion=promotion).uses_held == 0


@pytest.mark.django_db
def test_an_exhausted_promotion_refuses_the_reservation_and_holds_no_stock():
    variant = VariantFactory(quantity_on_hand=5)
    promotion = PromotionFactory(merchant=variant.merchant, usage_limit=1)
    _reserve(variant, promotion, key="order-1")

    response = _reserve(variant, promotion, key="order-2", customer_id="bob")

    assert response.status_code == 409
    assert response.json()["code"] == "promotion_exhausted"
    variant.refresh_from_db()
    assert variant.quantity_reserved == 1
    assert not Reservation.objects.filter(key="order-2").exists()


@pytest.mark.django_db
def test_an_expired_reservation_paid_after_all_takes_a_use_only_if_one_is_left():
    variant = VariantFactory(quantity_on_hand=5)
    promotion = PromotionFactory(merchant=variant.merchant, usage_limit=1)
    late = _reserve(variant, promotion, key="order-1").json()["id"]
    Reservation.objects.filter(id=late).update(expires_at=timezone.now() - timedelta(1))
    reservations_expire()
    _reserve(variant, promotion, key="order-2", customer_id="bob")

    response = _client().post(f"/internal/v1/reservations/{late}/commit/")

    assert response.status_code == 409
    assert response.json()["code"] == "promotion_exhausted"
    assert _uses(promotion) == (1, 0)
    variant.refresh_from_db()
    assert (variant.quantity_on_hand, variant.quantity_reserved) == (5, 1)


@pytest.mark.django_db
def test_the_database_refuses_uses_past_the_limit_whatever_the_code():
    promotion = PromotionFactory(usage_limit=2, uses_consumed=2)

    with pytest.raises(IntegrityError), transaction.atomic():
        Promotion.objects.filter(id=promotion.id).update(uses_reserved=1)


@pytest.mark.django_db(transaction=True)
@pytest.mark.concurrency
def test_fifty_checkouts_of_a_code_with_ten_uses_get_exactly_ten():
    variant = VariantFactory(quantity_on_hand=100)
    promotion = PromotionFactory(merchant=variant.merchant, usage_limit=10)

    def reserve(index: int) -> tuple[int, str | None]:
        response = _reserve(variant, promotion, key=f"buyer-{index}", customer_id=f"u{index}")
        return response.status_code, response.json().get("code")

    results = run_concurrently(50, reserve)

    assert Counter(results) == {(201, None): 10, (409, "promotion_exhausted"): 40}
    assert _uses(promotion) == (10, 0)
    assert ReservationPromotion.objects.filter(promotion=promotion).count() == 10
    variant.refresh_from_db()
    assert variant.quantity_reserved == 10


@pytest.mark.django_db(transaction=True)
@pytest.mark.concurrency
def test_one_buyer_racing_twenty_checkouts_gets_their_limit_of_two():
    variant = VariantFactory(quantity_on_hand=100)
    promotion = PromotionFactory(merchant=variant.merchant, per_customer_limit=2)

    def reserve(index: int) -> tuple[int, str | None]:
        response = _reserve(variant, promotion, key=f"ada-{index}", customer_id="ada")
        return response.status_code, response.json().get("code")

    results = run_concurrently(20, reserve)

    assert Counter(results) == {(201, None): 2, (409, "promotion_already_used"): 18}
    assert PromotionCustomerUse.objects.get(promotion=promotion, customer_id="ada").uses_held == 2


@pytest.mark.django_db
def test_a_late_payment_keeps_a_promotion_that_ended_meanwhile_while_uses_are_left():
    variant = VariantFactory(quantity_on_hand=5)
    promotion = PromotionFactory(merchant=variant.merchant, usage_limit=5)
    late = _reserve(variant, promotion, key="order-1").json()["id"]
    Reservation.objects.filter(id=late).update(expires_at=timezone.now() - timedelta(1))
    reservations_expire()
    Promotion.objects.filter(id=promotion.id).update(ends_at=timezone.now())

    response = _client().post(f"/internal/v1/reservations/{late}/commit/")

    assert response.status_code == 200, response.content
    assert _uses(promotion) == (0, 1)


def _queries_reserving(variant, promotions, *, key) -> int:
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    with CaptureQueriesContext(connection) as captured:
        response = _client().post(
            "/internal/v1/reservations/",
            {
                "key": key,
                "lines": [{"variant_id": str(variant.id), "quantity": 1}],
                "promotions": [str(promotion.id) for promotion in promotions],
                "customer_id": "ada",
            },
            format="json",
        )
    assert response.status_code == 201, response.json()
    return len(captured)


@pytest.mark.django_db
def test_holding_uses_costs_the_same_queries_for_1_and_4_per_buyer_limited_promotions():
    from products.services import product_changes_publish

    variant = VariantFactory(quantity_on_hand=100)
    with transaction.atomic():
        product_changes_publish(product_ids=[variant.product_id])
    promotions = [
        PromotionFactory(merchant=variant.merchant, usage_limit=10, per_customer_limit=2)
        for _ in range(4)
    ]
    _queries_reserving(variant, promotions[3:], key="warm")

    one = _queries_reserving(variant, promotions[:1], key="one")
    four = _queries_reserving(variant, promotions, key="four")

    assert one == four
    assert set(
        PromotionCustomerUse.objects.filter(customer_id="ada").values_list("uses_held", flat=True)
    ) == {1, 2}
