"""The internal restock endpoint, as checkout calls it when a return or a cancellation
puts units back: once per key, whatever the replays, races and bad inputs."""

from __future__ import annotations

import uuid

import pytest

from inventory.models import StockMovement
from products.models import Variant
from tests.factories import VariantFactory
from tests.test_reservation_concurrency import _client, run_concurrently

pytestmark = pytest.mark.django_db

PATH = "/internal/v1/restocks/"


def _restock(client, lines, key="refund-1", **extra):
    body = {"key": key, "lines": lines, "reason": "returned", **extra}
    return client.post(PATH, body, format="json")


def _on_hand(variant: Variant) -> int:
    variant.refresh_from_db()
    return variant.quantity_on_hand


def test_a_restock_adds_the_units_and_logs_one_movement_per_variant(service_client):
    first, second = VariantFactory(quantity_on_hand=3), VariantFactory(quantity_on_hand=0)
    order_id = uuid.uuid4()
    response = _restock(
        service_client,
        [
            {"variant_id": str(first.id), "quantity": 2},
            {"variant_id": str(second.id), "quantity": 1},
            {"variant_id": str(first.id), "quantity": 1},
        ],
        order_id=str(order_id),
    )
    assert response.status_code == 200, response.json()
    body = response.json()
    assert body["key"] == "refund-1"
    restocked = {(ln["variant_id"], ln["quantity"], ln["on_hand_after"]) for ln in body["lines"]}
    assert restocked == {(str(first.id), 3, 6), (str(second.id), 1, 1)}
    assert (_on_hand(first), _on_hand(second)) == (6, 1)
    movements = StockMovement.objects.filter(reference="refund-1").order_by("variant_id")
    assert {(m.variant_id, m.kind, m.delta, m.actor) for m in movements} == {
        (first.id, "restocked", 3, "system:checkout"),
        (second.id, "restocked", 1, "system:checkout"),
    }
    assert all(m.note == f"returned (order {order_id})" for m in movements)


def test_replaying_a_restock_answers_the_same_and_moves_nothing(service_client):
    variant = VariantFactory(quantity_on_hand=5)
    lines = [{"variant_id": str(variant.id), "quantity": 2}]
    first = _restock(service_client, lines)
    again = _restock(service_client, lines)
    assert (first.status_code, again.status_code) == (200, 200)
    assert again.json() == first.json()
    assert _on_hand(variant) == 7
    assert StockMovement.objects.filter(variant=variant, kind="restocked").count() == 1


def test_the_same_key_with_other_lines_is_422_and_moves_nothing(service_client):
    variant = VariantFactory(quantity_on_hand=5)
    _restock(service_client, [{"variant_id": str(variant.id), "quantity": 2}])
    response = _restock(service_client, [{"variant_id": str(variant.id), "quantity": 3}])
    assert response.status_code == 422
    assert response.json()["code"] == "restock_key_reused"
    assert _on_hand(variant) == 7


def test_an_unknown_variant_is_422_and_moves_nothing(service_client):
    variant = VariantFactory(quantity_on_hand=5)
    response = _restock(
        service_client,
        [
            {"variant_id": str(variant.id), "quantity": 1},
            {"variant_id": str(uuid.uuid4()), "quantity": 1},
        ],
    )
    assert response.status_code == 422
    assert response.json()["code"] == "variant_unavailable"
    assert _on_hand(variant) == 5
    assert not StockMovement.objects.exists()


@pytest.mark.parametrize(
    ("change", "field", "code"),
    [
        ({"key": None}, "key", "null"),
        ({"key": 42}, "key", "invalid"),
        ({"key": "k" * 201}, "key", "max_length"),
        ({"reason": ""}, "reason", "blank"),
        ({"reason": 7}, "reason", "invalid"),
        ({"order_id": 12}, "order_id", "invalid"),
        ({"order_id": "not-an-id"}, "order_id", "invalid"),
        ({"lines": []}, "lines", "empty"),
        ({"lines": [{"variant_id": "V", "quantity": 0}]}, "lines[0].quantity", "min_value"),
        ({"lines": [{"variant_id": "V", "quantity": 10**30}]}, "lines[0].quantity", "max_value"),
        ({"lines": [{"variant_id": "V", "quantity": "2"}]}, "lines[0].quantity", "invalid"),
        ({"lines": [{"variant_id": 5, "quantity": 1}]}, "lines[0].variant_id", "invalid"),
    ],
)
def test_bad_input_is_400_naming_the_field_and_moves_nothing(service_client, change, field, code):
    variant = VariantFactory(quantity_on_hand=5)
    body = {
        "key": "refund-1",
        "reason": "returned",
        "lines": [{"variant_id": str(variant.id), "quantity": 1}],
        **change,
    }
    if "lines" in change:
        body["lines"] = [
            {k: (str(variant.id) if v == "V" else v) for k, v in line.items()}
            for line in change["lines"]
        ]
    response = service_client.post(PATH, body, format="json")
    assert response.status_code == 400
    assert {"field": field, "code": code} in [
        {"field": error["field"], "code": error["code"]} for error in response.json()["errors"]
    ]
    assert _on_hand(variant) == 5


@pytest.mark.parametrize("missing", ["key", "lines", "reason"])
def test_a_missing_field_is_400(service_client, missing):
    variant = VariantFactory(quantity_on_hand=5)
    body = {
        "key": "refund-1",
        "reason": "returned",
        "lines": [{"variant_id": str(variant.id), "quantity": 1}],
    }
    del body[missing]
    response = service_client.post(PATH, body, format="json")
    assert response.status_code == 400
    assert response.json()["errors"][0]["field"] == missing
    assert _on_hand(variant) == 5


def test_a_user_token_cannot_restock(user_client):
    variant = VariantFactory(quantity_on_hand=5)
    response = _restock(user_client, [{"variant_id": str(variant.id), "quantity": 1}])
    assert response.status_code == 403
    assert _on_hand(variant) == 5


@pytest.mark.concurrency
@pytest.mark.django_db(transaction=True)
def test_ten_concurrent_replays_of_one_restock_move_the_stock_once():
    variant = VariantFactory(quantity_on_hand=1)

    def restock(index: int) -> tuple[int, object]:
        response = _restock(_client(), [{"variant_id": str(variant.id), "quantity": 4}], key="r-9")
        return response.status_code, response.json()

    results = run_concurrently(10, restock)
    assert [status for status, _ in results] == [200] * 10
    assert len({str(body) for _, body in results}) == 1
    assert _on_hand(variant) == 5
    assert StockMovement.objects.filter(variant=variant, kind="restocked").count() == 1
