"""Catalog takes what its schema says and nothing looser: a bad `limit` or an empty
filter is a 400 naming it, a number is not a string (nor a string a number)."""

from __future__ import annotations

import pytest

from inventory.models import Reservation
from tests.factories import VariantFactory

pytestmark = pytest.mark.django_db


def _problem_fields(response) -> list[str | None]:
    assert response.status_code == 400
    assert response["Content-Type"] == "application/problem+json"
    body = response.json()
    assert body["code"] == "validation_error"
    return [error["field"] for error in body["errors"]]


@pytest.mark.parametrize("limit", ["", "abc", "null", "0", "101", "2.5"])
def test_a_bad_limit_on_the_product_list_is_400_naming_limit(api_client, limit):
    VariantFactory()
    assert _problem_fields(api_client.get(f"/api/v1/products/?limit={limit}")) == ["limit"]


@pytest.mark.parametrize("name", ["merchant", "category"])
def test_an_empty_product_filter_is_400_naming_it_not_taken_as_absent(api_client, name):
    VariantFactory()
    assert _problem_fields(api_client.get(f"/api/v1/products/?{name}=")) == [name]


def test_an_empty_search_is_still_no_search(api_client):
    product = VariantFactory().product
    response = api_client.get("/api/v1/products/?q=")
    assert [card["id"] for card in response.json()["results"]] == [str(product.id)]


@pytest.mark.parametrize(
    ("extra", "field"), [({"key": 7}, "key"), ({"ttl_seconds": "900"}, "ttl_seconds")]
)
def test_a_reservation_field_of_the_wrong_json_type_is_400_and_holds_nothing(
    service_client, extra, field
):
    variant = VariantFactory(quantity_on_hand=5)
    body = {"key": "order-1", "lines": [{"variant_id": str(variant.id), "quantity": 1}]}
    response = service_client.post("/internal/v1/reservations/", body | extra, format="json")
    assert _problem_fields(response) == [field]
    assert Reservation.objects.count() == 0


def test_a_quantity_given_as_a_string_is_400(service_client):
    variant = VariantFactory(quantity_on_hand=5)
    body = {"key": "order-1", "lines": [{"variant_id": str(variant.id), "quantity": "1"}]}
    response = service_client.post("/internal/v1/reservations/", body, format="json")
    assert _problem_fields(response) == ["lines[0].quantity"]
