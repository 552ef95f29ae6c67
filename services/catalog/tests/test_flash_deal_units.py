"""Units at a flash deal's price move with the stock reservation: held, sold on commit,
given back on release and expiry, never past the total or a buyer's limit (CHECK
constraints), raced on purpose by real threads on the real PostgreSQL."""

from __future__ import annotations

from collections import Counter
from datetime import timedelta

import pytest
from django.db import IntegrityError, connection, transaction
from django.test.utils import CaptureQueriesContext
from django.utils import timezone
from rest_framework.test import APIClient

from clipcart_shared.auth import service_token_mint
from inventory.models import Reservation, ReservationFlashDeal
from inventory.services import reservations_expire
from promotions.flash_models import FlashDeal, FlashDealBuyerUse
from tests.factories import FlashDealFactory
from tests.test_reservation_concurrency import run_concurrently


def _client() -> APIClient:
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Service {service_token_mint(service='checkout')}")
    return client


def _reserve(deal, *, key, quantity=1, customer_id="ada"):
    return _client().post(
        "/internal/v1/reservations/",
        {
            "key": key,
            "lines": [{"variant_id": str(deal.variant_id), "quantity": quantity}],
            "flash_deals": [{"deal_id": str(deal.id), "quantity": quantity}],
            "customer_id": customer_id,
        },
        format="json",
    )


def _units(deal) -> tuple[int, int]:
    deal.refresh_from_db()
    return deal.units_reserved, deal.units_consumed


def _held(deal, customer_id="ada") -> int:
    return FlashDealBuyerUse.objects.get(deal=deal, customer_id=customer_id).units_held


@pytest.mark.django_db
def test_units_are_held_with_the_stock_and_sold_on_commit():
    deal = FlashDealFactory(variant__quantity_on_hand=20, total_quantity=10, per_buyer_limit=3)

    response = _reserve(deal, key="order-1", quantity=2)

    assert response.status_code == 201, response.content
    assert _units(deal) == (2, 0)
    assert _held(deal) == 2
    commit = _client().post(f"/internal/v1/reservations/{response.json()['id']}/commit/")
    assert commit.status_code == 200
    assert _units(deal) == (0, 2)
    assert _held(deal) == 2


@pytest.mark.django_db
def test_release_and_expiry_give_the_units_back_to_the_deal_and_the_buyer():
    deal = FlashDealFactory(variant__quantity_on_hand=20, per_buyer_limit=4)
    released = _reserve(deal, key="order-1", quantity=2).json()["id"]
    _reserve(deal, key="order-2", quantity=1)

    _client().post(f"/internal/v1/reservations/{released}/release/")
    Reservation.objects.filter(key="order-2").update(expires_at=timezone.now() - timedelta(1))
    reservations_expire()

    assert _units(deal) == (0, 0)
    assert _held(deal) == 0


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("setup", "code"),
    [
        ({"total_quantity": 1}, "flash_deal_sold_out"),
        ({"per_buyer_limit": 1}, "flash_deal_limit_reached"),
    ],
)
def test_past_a_limit_the_reservation_is_refused_and_holds_nothing(setup, code):
    deal = FlashDealFactory(variant__quantity_on_hand=20, **setup)

    response = _reserve(deal, key="order-1", quantity=2)

    assert response.status_code == 409
    assert response.json()["code"] == code
    deal.variant.refresh_from_db()
    assert deal.variant.quantity_reserved == 0
    assert _units(deal) == (0, 0)
    assert not Reservation.objects.filter(key="order-1").exists()


@pytest.mark.django_db
def test_an_ended_deal_refuses_the_reservation():
    deal = FlashDealFactory()
    FlashDeal.objects.filter(id=deal.id).update(ends_at=timezone.now())

    response = _reserve(deal, key="order-1")

    assert (response.status_code, response.json()["code"]) == (409, "flash_deal_ended")


@pytest.mark.django_db
def test_an_expired_reservation_paid_after_the_deal_ended_keeps_its_units_if_left():
    deal = FlashDealFactory(total_quantity=5)
    late = _reserve(deal, key="order-1").json()["id"]
    Reservation.objects.filter(id=late).update(expires_at=timezone.now() - timedelta(1))
    reservations_expire()
    FlashDeal.objects.filter(id=deal.id).update(ends_at=timezone.now())

    response = _client().post(f"/internal/v1/reservations/{late}/commit/")

    assert response.status_code == 200, response.content
    assert _units(deal) == (0, 1)


@pytest.mark.django_db
def test_the_database_refuses_units_past_the_total_and_the_buyers_limit():
    deal = FlashDealFactory(total_quantity=2, units_consumed=2)

    with pytest.raises(IntegrityError), transaction.atomic():
        FlashDeal.objects.filter(id=deal.id).update(units_reserved=1)
    with pytest.raises(IntegrityError), transaction.atomic():
        FlashDealBuyerUse.objects.create(deal=deal, customer_id="x", units_held=3, unit_limit=2)
    with pytest.raises(IntegrityError), transaction.atomic():
        FlashDeal.objects.filter(id=deal.id).update(duration_minutes=121)


@pytest.mark.django_db(transaction=True)
@pytest.mark.concurrency
def test_fifty_buyers_on_a_deal_of_ten_get_at_most_ten_units_at_the_deal_price():
    deal = FlashDealFactory(variant__quantity_on_hand=100, total_quantity=10, per_buyer_limit=1)

    def reserve(index: int) -> tuple[int, str | None]:
        response = _reserve(deal, key=f"buyer-{index}", customer_id=f"u{index}")
        return response.status_code, response.json().get("code")

    results = run_concurrently(50, reserve)

    assert Counter(results) == {(201, None): 10, (409, "flash_deal_sold_out"): 40}
    assert _units(deal) == (10, 0)
    assert (
        sum(ReservationFlashDeal.objects.filter(deal=deal).values_list("quantity", flat=True)) == 10
    )
    deal.variant.refresh_from_db()
    assert deal.variant.quantity_reserved == 10


@pytest.mark.django_db(transaction=True)
@pytest.mark.concurrency
def test_one_buyer_racing_ten_checkouts_gets_their_limit():
    deal = FlashDealFactory(variant__quantity_on_hand=100, total_quantity=None, per_buyer_limit=3)

    def reserve(index: int) -> tuple[int, str | None]:
        response = _reserve(deal, key=f"ada-{index}", customer_id="ada")
        return response.status_code, response.json().get("code")

    results = run_concurrently(10, reserve)

    assert Counter(results) == {(201, None): 3, (409, "flash_deal_limit_reached"): 7}
    assert _held(deal) == 3


@pytest.mark.django_db
def test_a_reservation_costs_the_same_queries_for_1_and_5_deals():
    def queries(count: int) -> int:
        deals = [FlashDealFactory(variant__quantity_on_hand=20) for _ in range(count)]
        body = {
            "key": f"order-{count}",
            "lines": [{"variant_id": str(d.variant_id), "quantity": 1} for d in deals],
            "flash_deals": [{"deal_id": str(d.id), "quantity": 1} for d in deals],
            "customer_id": "ada",
        }
        client = _client()
        with CaptureQueriesContext(connection) as captured:
            response = client.post("/internal/v1/reservations/", body, format="json")
        assert response.status_code == 201, response.content
        assert all(_units(deal) == (1, 0) for deal in deals)
        release = f"/internal/v1/reservations/{response.json()['id']}/release/"
        with CaptureQueriesContext(connection) as released:
            assert client.post(release).status_code == 200
        assert all(_units(deal) == (0, 0) for deal in deals)
        assert all(_held(deal) == 0 for deal in deals)
        return len(captured) + 1000 * len(released)

    assert queries(1) == queries(5)


@pytest.mark.django_db(transaction=True)
@pytest.mark.concurrency
def test_a_commit_takes_its_deals_in_id_order_so_a_concurrent_hold_never_deadlocks_it():
    import threading
    import time
    import uuid

    from django.db import connections

    # The higher id written first: an UPDATE meets the rows as they lie, not in id order.
    high = FlashDealFactory(id=uuid.UUID(int=2**128 - 1), variant__quantity_on_hand=20)
    low = FlashDealFactory(id=uuid.UUID(int=1), variant__quantity_on_hand=20)
    reserved = _client().post(
        "/internal/v1/reservations/",
        {
            "key": "both",
            "lines": [{"variant_id": str(d.variant_id), "quantity": 1} for d in (high, low)],
            "flash_deals": [{"deal_id": str(d.id), "quantity": 1} for d in (high, low)],
            "customer_id": "ada",
        },
        format="json",
    )
    assert reserved.status_code == 201, reserved.content
    locked, failures = threading.Event(), []

    def other_checkout() -> None:  # another buyer's hold: the deals in id order
        try:
            with transaction.atomic():
                FlashDeal.objects.select_for_update().filter(id=low.id).get()
                locked.set()
                time.sleep(1.5)
                FlashDeal.objects.select_for_update().filter(id=high.id).get()
        except Exception as error:  # the test inspects it
            failures.append(error)
        finally:
            connections.close_all()

    thread = threading.Thread(target=other_checkout)
    thread.start()
    assert locked.wait(10)
    try:
        commit = _client().post(f"/internal/v1/reservations/{reserved.json()['id']}/commit/")
    except Exception as error:  # the test inspects it
        failures.append(error)
        commit = None
    thread.join(30)

    assert failures == []
    assert commit is not None and commit.status_code == 200
    assert _units(high) == _units(low) == (0, 1)
