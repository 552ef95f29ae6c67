"""Checkout takes what its schema says and nothing looser: a bad `limit` or an empty
parameter is a 400 naming it, a number is not a string (nor a string a number)."""

from __future__ import annotations

import uuid
from datetime import timedelta

import pytest
from django.utils import timezone
from rest_framework.test import APIClient

from carts.models import CartLine
from clipcart_shared.auth import service_token_mint
from orders.models import Order
from tests.conftest import ADDRESS

pytestmark = pytest.mark.django_db


def _problem_fields(response) -> list[str | None]:
    assert response.status_code == 400, response.content
    assert response["Content-Type"] == "application/problem+json"
    body = response.json()
    assert body["code"] == "validation_error"
    return [error["field"] for error in body["errors"]]


@pytest.mark.parametrize("limit", ["", "abc", "null", "0", "101", "1&limit=1"])
def test_a_bad_limit_on_the_order_list_is_400_naming_limit(client_for, limit):
    assert _problem_fields(client_for("u1").get(f"/api/v1/orders/?limit={limit}")) == ["limit"]


@pytest.mark.parametrize(("query", "field"), [("until=", "until"), ("limit=0", "limit")])
def test_an_empty_or_bad_order_events_parameter_is_400_naming_it(query, field):
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Service {service_token_mint(service='video')}")
    response = client.get(
        "/internal/v1/order-events/?type=order.paid&"
        f"since={(timezone.now() - timedelta(days=1)).strftime('%Y-%m-%dT%H:%M:%SZ')}&{query}"
    )
    assert _problem_fields(response) == [field]


def test_a_quantity_given_as_a_string_is_400_and_adds_no_line(client_for):
    response = client_for("u1").post(
        "/api/v1/cart/lines/", {"variant_id": str(uuid.uuid4()), "quantity": "2"}, format="json"
    )
    assert _problem_fields(response) == ["quantity"]
    assert not CartLine.objects.exists()


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"email": 5}, "email"),
        ({"shipping_address": ADDRESS | {"postal_code": 10115}}, "shipping_address.postal_code"),
    ],
)
def test_a_checkout_field_of_the_wrong_json_type_is_400_and_makes_no_order(client_for, body, field):
    response = client_for("u1").post(
        "/api/v1/checkouts/",
        {"email": "ada@example.com", "shipping_address": ADDRESS} | body,
        format="json",
        HTTP_IDEMPOTENCY_KEY=str(uuid.uuid4()),
    )
    assert _problem_fields(response) == [field]
    assert not Order.objects.exists()
