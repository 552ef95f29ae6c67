"""Reservations as checkout calls them (reserve, commit, release), including every bad
input."""

from __future__ import annotations

import json
import uuid

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from clipcart_shared.outbox.models import OutboxEvent
from inventory.models import Reservation, ReservationLine
from products.models import Product, Variant
from tests.factories import VariantFactory

pytestmark = pytest.mark.django_db


# --- reservations: the good path ------------------------------------------------------


def _reserve(client, lines, key="order-1", **extra):
    return client.post(
        "/internal/v1/reservations/", {"key": key, "lines": lines, **extra}, format="json"
    )


def _state(variant: Variant) -> tuple[int, int]:
    variant.refresh_from_db()
    return variant.quantity_on_hand, variant.quantity_reserved


def test_reservation_holds_stock_and_commit_takes_it(service_client):
    variant = VariantFactory(quantity_on_hand=10)
    created = _reserve(service_client, [{"variant_id": str(variant.id), "quantity": 3}])
    assert created.status_code == 201
    body = created.json()
    assert body["status"] == "active"
    assert body["lines"] == [{"variant_id": str(variant.id), "quantity": 3}]
    assert _state(variant) == (10, 3)

    committed = service_client.post(f"/internal/v1/reservations/{body['id']}/commit/")
    assert committed.status_code == 200
    assert committed.json()["status"] == "committed"
    assert _state(variant) == (7, 0)


def test_release_gives_stock_back(service_client):
    variant = VariantFactory(quantity_on_hand=5)
    body = _reserve(service_client, [{"variant_id": str(variant.id), "quantity": 5}]).json()
    assert _state(variant) == (5, 5)
    released = service_client.post(f"/internal/v1/reservations/{body['id']}/release/")
    assert released.json()["status"] == "released"
    assert _state(variant) == (5, 0)


def test_lines_for_the_same_variant_are_merged(service_client):
    variant = VariantFactory(quantity_on_hand=5)
    line = {"variant_id": str(variant.id), "quantity": 2}
    body = _reserve(service_client, [line, line]).json()
    assert body["lines"] == [{"variant_id": str(variant.id), "quantity": 4}]
    assert _state(variant) == (5, 4)


# --- reservations: replays are no-ops -------------------------------------------------


def test_replaying_reserve_commit_and_release_changes_nothing(service_client):
    variant = VariantFactory(quantity_on_hand=10)
    lines = [{"variant_id": str(variant.id), "quantity": 2}]
    first = _reserve(service_client, lines).json()
    again = _reserve(service_client, lines)
    assert again.status_code == 200
    assert again.json() == first
    assert Reservation.objects.count() == 1
    assert _state(variant) == (10, 2)

    for _ in range(2):
        assert (
            service_client.post(f"/internal/v1/reservations/{first['id']}/commit/").status_code
            == 200
        )
    assert _state(variant) == (8, 0)

    other = _reserve(service_client, lines, key="order-2").json()
    for _ in range(2):
        assert (
            service_client.post(f"/internal/v1/reservations/{other['id']}/release/").status_code
            == 200
        )
    assert _state(variant) == (8, 0)


def test_same_key_with_other_lines_is_422_and_writes_nothing(service_client):
    variant = VariantFactory(quantity_on_hand=10)
    _reserve(service_client, [{"variant_id": str(variant.id), "quantity": 2}])
    response = _reserve(service_client, [{"variant_id": str(variant.id), "quantity": 3}])
    assert response.status_code == 422
    assert response.json()["code"] == "reservation_key_reused"
    assert _state(variant) == (10, 2)


def test_released_reservation_cannot_be_committed_and_committed_cannot_be_released(
    service_client,
):
    variant = VariantFactory(quantity_on_hand=10)
    lines = [{"variant_id": str(variant.id), "quantity": 1}]
    released = _reserve(service_client, lines, key="a").json()
    service_client.post(f"/internal/v1/reservations/{released['id']}/release/")
    response = service_client.post(f"/internal/v1/reservations/{released['id']}/commit/")
    assert (response.status_code, response.json()["code"]) == (409, "reservation_released")

    committed = _reserve(service_client, lines, key="b").json()
    service_client.post(f"/internal/v1/reservations/{committed['id']}/commit/")
    response = service_client.post(f"/internal/v1/reservations/{committed['id']}/release/")
    assert (response.status_code, response.json()["code"]) == (409, "reservation_committed")
    assert _state(variant) == (9, 0)


def test_commit_or_release_of_an_unknown_reservation_is_404(service_client):
    for action in ("commit", "release"):
        response = service_client.post(f"/internal/v1/reservations/{uuid.uuid4()}/{action}/")
        assert response.status_code == 404


# --- reservations: bad input, nothing written ----------------------------------------


def _assert_nothing_written(variant: Variant, on_hand: int = 10) -> None:
    assert Reservation.objects.count() == 0
    assert ReservationLine.objects.count() == 0
    assert _state(variant) == (on_hand, 0)


def test_out_of_stock_names_each_short_line_and_reserves_nothing(service_client):
    plenty = VariantFactory(quantity_on_hand=10)
    scarce = VariantFactory(quantity_on_hand=1)
    response = _reserve(
        service_client,
        [
            {"variant_id": str(plenty.id), "quantity": 2},
            {"variant_id": str(scarce.id), "quantity": 2},
        ],
    )
    assert response.status_code == 409
    body = response.json()
    assert body["code"] == "out_of_stock"
    assert body["lines"] == [{"variant_id": str(scarce.id), "requested": 2, "available": 1}]
    _assert_nothing_written(plenty)
    assert _state(scarce) == (1, 0)


@pytest.mark.parametrize(
    ("lines", "field", "code"),
    [
        ([{"variant_id": "V", "quantity": 0}], "lines[0].quantity", "min_value"),
        ([{"variant_id": "V", "quantity": -1}], "lines[0].quantity", "min_value"),
        ([{"variant_id": "V", "quantity": 1000}], "lines[0].quantity", "max_value"),
        ([{"variant_id": "V", "quantity": 10**30}], "lines[0].quantity", "max_value"),
        ([{"variant_id": "V", "quantity": "two"}], "lines[0].quantity", "invalid"),
        ([{"variant_id": "V", "quantity": 1.5}], "lines[0].quantity", "invalid"),
        ([{"variant_id": "V"}], "lines[0].quantity", "required"),
        ([{"variant_id": 42, "quantity": 1}], "lines[0].variant_id", "invalid"),
        ([{"variant_id": "V", "quantity": 1}] * 101, "lines", "max_length"),
        ([], "lines", "empty"),
        ("not-a-list", "lines", "not_a_list"),
    ],
)
def test_invalid_lines_are_400_with_the_field_and_write_nothing(service_client, lines, field, code):
    variant = VariantFactory(quantity_on_hand=10)
    if isinstance(lines, list):
        lines = [
            {k: (str(variant.id) if v == "V" else v) for k, v in line.items()} for line in lines
        ]
    response = _reserve(service_client, lines)
    assert response.status_code == 400
    body = response.json()
    assert body["code"] == "validation_error"
    assert {"field": field, "code": code} in [
        {"field": error["field"], "code": error["code"]} for error in body["errors"]
    ]
    _assert_nothing_written(variant)


def test_unknown_variant_is_422_and_writes_nothing(service_client):
    variant = VariantFactory(quantity_on_hand=10)
    response = _reserve(
        service_client,
        [
            {"variant_id": str(variant.id), "quantity": 1},
            {"variant_id": str(uuid.uuid4()), "quantity": 1},
        ],
    )
    assert response.status_code == 422
    assert response.json()["code"] == "variant_unavailable"
    _assert_nothing_written(variant)


def test_malformed_json_is_400_problem(service_client):
    response = service_client.generic(
        "POST", "/internal/v1/reservations/", "{not json", content_type="application/json"
    )
    assert response.status_code == 400
    assert response["Content-Type"] == "application/problem+json"
    assert response.json()["code"] == "malformed_request"


@pytest.mark.parametrize(
    "body", [{"key": "", "lines": []}, {"lines": []}, {"key": ["x"], "lines": []}, [1, 2]]
)
def test_missing_or_wrong_typed_key_is_400(service_client, body):
    response = service_client.post("/internal/v1/reservations/", body, format="json")
    assert response.status_code == 400
    assert response.json()["code"] == "validation_error"


def test_a_huge_body_is_413(service_client, settings):
    settings.DATA_UPLOAD_MAX_MEMORY_SIZE = 1000
    body = json.dumps({"key": "k", "lines": [], "pad": "x" * 2000})
    response = service_client.generic(
        "POST", "/internal/v1/reservations/", body, content_type="application/json"
    )
    assert response.status_code == 413
    assert response.json()["code"] == "request_too_large"


def test_wrong_content_type_is_415(service_client):
    response = service_client.generic(
        "POST",
        "/internal/v1/reservations/",
        "key=x",
        content_type="application/x-www-form-urlencoded",
    )
    assert response.status_code == 415
    assert response.json()["code"] == "unsupported_media_type"


# --- events and query counts ---------------------------------------------------------


def test_reserving_the_last_unit_emits_product_changed_with_out_of_stock(service_client):
    variant = VariantFactory(quantity_on_hand=1)
    OutboxEvent.objects.all().delete()
    _reserve(service_client, [{"variant_id": str(variant.id), "quantity": 1}])
    events = list(OutboxEvent.objects.filter(type="product.changed"))
    assert [event.subject for event in events] == [str(variant.product_id)]
    assert events[0].data["stock_status"] == "out_of_stock"
    # A second change that does not alter the card sends nothing.
    variant2 = VariantFactory(product=variant.product, quantity_on_hand=100)
    OutboxEvent.objects.all().delete()
    Product.objects.filter(id=variant.product_id).update(published_card_hash="")
    _reserve(service_client, [{"variant_id": str(variant2.id), "quantity": 1}], key="x")
    _reserve(service_client, [{"variant_id": str(variant2.id), "quantity": 1}], key="y")
    assert OutboxEvent.objects.filter(type="product.changed").count() == 1


def _reservation_queries(service_client, variants, key) -> int:
    lines = [{"variant_id": str(v.id), "quantity": 1} for v in variants]
    with CaptureQueriesContext(connection) as queries:
        assert _reserve(service_client, lines, key=key).status_code == 201
    return len(queries)


def test_reservation_query_count_is_the_same_for_1_and_20_lines(service_client):
    variants = [VariantFactory(quantity_on_hand=100) for _ in range(20)]
    # Publish the initial cards so neither call below changes a card.
    from django.db import transaction

    from products.services import product_changes_publish

    with transaction.atomic():
        product_changes_publish(product_ids=[v.product_id for v in variants])
    one = _reservation_queries(service_client, variants[:1], "one")
    twenty = _reservation_queries(service_client, variants, "twenty")
    assert one == twenty
