"""Races on purpose: real threads, each with its own connection, on the real PostgreSQL."""

from __future__ import annotations

import random
import threading
from collections import Counter
from collections.abc import Callable
from typing import Any

import pytest
from django.db import connection, connections
from rest_framework.test import APIClient

from clipcart_shared.auth import service_token_mint
from inventory.models import Reservation
from tests.factories import VariantFactory

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.concurrency]


def run_concurrently(count: int, action: Callable[[int], Any]) -> list[Any]:
    """Start `count` threads at the same instant; return each one's result or exception."""
    barrier = threading.Barrier(count)
    results: list[Any] = [None] * count

    def worker(index: int) -> None:
        try:
            barrier.wait()
            results[index] = action(index)
        except Exception as error:  # the test inspects it
            results[index] = error
        finally:
            connections.close_all()

    threads = [threading.Thread(target=worker, args=(index,)) for index in range(count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    return results


def _client() -> APIClient:
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Service {service_token_mint(service='checkout')}")
    return client


def test_fifty_buyers_of_the_last_unit_get_one_success_and_49_out_of_stock():
    variant = VariantFactory(quantity_on_hand=1)

    def reserve(index: int) -> tuple[int, str | None]:
        response = _client().post(
            "/internal/v1/reservations/",
            {"key": f"buyer-{index}", "lines": [{"variant_id": str(variant.id), "quantity": 1}]},
            format="json",
        )
        return response.status_code, response.json().get("code")

    results = run_concurrently(50, reserve)

    assert Counter(results) == {(201, None): 1, (409, "out_of_stock"): 49}
    variant.refresh_from_db()
    assert (variant.quantity_on_hand, variant.quantity_reserved) == (1, 1)
    assert Reservation.objects.count() == 1


def test_opposite_lock_orders_never_deadlock():
    first = VariantFactory(quantity_on_hand=1000)
    second = VariantFactory(quantity_on_hand=1000)

    def reserve(index: int) -> int:
        pair = [first, second] if index % 2 else [second, first]
        lines = [
            {"variant_id": str(variant.id), "quantity": random.randint(1, 3)} for variant in pair
        ]
        response = _client().post(
            "/internal/v1/reservations/", {"key": f"k-{index}", "lines": lines}, format="json"
        )
        if response.status_code == 201:
            reservation_id = response.json()["id"]
            action = "commit" if index % 3 else "release"
            follow_up = _client().post(f"/internal/v1/reservations/{reservation_id}/{action}/")
            return follow_up.status_code
        return response.status_code

    results = run_concurrently(40, reserve)

    assert [result for result in results if result != 200] == []
    for variant in (first, second):
        variant.refresh_from_db()
        assert variant.quantity_reserved == 0
    committed = Reservation.objects.filter(status="committed").count()
    released = Reservation.objects.filter(status="released").count()
    assert committed + released == 40


def test_the_same_key_sent_concurrently_reserves_once():
    variant = VariantFactory(quantity_on_hand=100)

    def reserve(index: int) -> int:
        response = _client().post(
            "/internal/v1/reservations/",
            {"key": "same", "lines": [{"variant_id": str(variant.id), "quantity": 2}]},
            format="json",
        )
        return response.status_code

    results = run_concurrently(20, reserve)

    assert sorted(Counter(results).items()) == [(200, 19), (201, 1)]
    variant.refresh_from_db()
    assert variant.quantity_reserved == 2


def test_the_database_refuses_overselling_even_without_the_code_check():
    variant = VariantFactory(quantity_on_hand=1, quantity_reserved=1)
    from django.db import IntegrityError

    with pytest.raises(IntegrityError), connection.cursor() as cursor:
        cursor.execute(
            "UPDATE products_variant SET quantity_reserved = quantity_reserved + 1 WHERE id = %s",
            [variant.id],
        )
