"""Quotes as checkout calls them, and the credentials every internal endpoint asks for,
including every bad input."""

from __future__ import annotations

import uuid

import pytest

from products.models import Product
from tests.factories import MerchantFactory, ProductFactory, VariantFactory

pytestmark = pytest.mark.django_db


# --- authentication -----------------------------------------------------------------


@pytest.mark.parametrize("path", ["/internal/v1/quotes/", "/internal/v1/reservations/"])
def test_internal_endpoints_answer_401_without_a_credential(api_client, path):
    response = api_client.post(path, {"lines": []}, format="json")
    assert response.status_code == 401
    assert response.json()["code"] == "not_authenticated"
    assert response["WWW-Authenticate"].startswith("Service")


@pytest.mark.parametrize("path", ["/internal/v1/quotes/", "/internal/v1/reservations/"])
def test_internal_endpoints_answer_403_to_a_user_token(user_client, path):
    response = user_client.post(path, {"lines": []}, format="json")
    assert response.status_code == 403
    assert response.json()["code"] == "permission_denied"


def test_service_token_signed_with_an_unknown_key_is_401(api_client):
    import jwt

    forged = jwt.encode(
        {"iss": "checkout", "aud": "clipcart-internal", "exp": 9999999999},
        "a-wrong-key-that-is-long-enough-for-hs256",
        "HS256",
    )
    api_client.credentials(HTTP_AUTHORIZATION=f"Service {forged}")
    assert api_client.post("/internal/v1/quotes/", {}, format="json").status_code == 401


def test_service_token_signed_with_the_previous_key_still_works(api_client, settings):
    import time

    import jwt

    old_key = settings.SERVICE_AUTH_KEYS[1]
    token = jwt.encode(
        {"iss": "checkout", "aud": "clipcart-internal", "exp": int(time.time()) + 60},
        old_key,
        "HS256",
    )
    variant = VariantFactory()
    api_client.credentials(HTTP_AUTHORIZATION=f"Service {token}")
    response = api_client.post(
        "/internal/v1/quotes/",
        {"lines": [{"variant_id": str(variant.id), "quantity": 1}]},
        format="json",
    )
    assert response.status_code == 200


# --- quotes ---------------------------------------------------------------------------


def test_quote_prices_lines_with_merchant_shipping(service_client):
    merchant = MerchantFactory(shipping_fee_amount=490)
    variant = VariantFactory(product=ProductFactory(merchant=merchant), price_amount=1250)

    response = service_client.post(
        "/internal/v1/quotes/",
        {"lines": [{"variant_id": str(variant.id), "quantity": 3}]},
        format="json",
    )

    assert response.status_code == 200
    body = response.json()
    line = body["lines"][0]
    assert line["unit_price"] == {"amount": 1250, "currency": "EUR"}
    assert line["line_total"] == {"amount": 3750, "currency": "EUR"}
    assert line["merchant_id"] == str(merchant.id)
    assert line["max_units_per_buyer"] == 10
    assert body["merchants"] == [
        {
            "id": str(merchant.id),
            "name": merchant.name,
            "shipping_fee": {"amount": 490, "currency": "EUR"},
            "shipping_discount": {"amount": 0, "currency": "EUR"},
        }
    ]
    assert line["discount"] == {"amount": 0, "currency": "EUR"}
    assert line["net_total"] == {"amount": 3750, "currency": "EUR"}
    assert (body["discounts"], body["codes_refused"]) == ([], [])


def test_quote_carries_each_merchants_cap_on_units_per_buyer(service_client):
    capped = VariantFactory(product=ProductFactory(merchant=MerchantFactory(max_units_per_buyer=2)))
    default = VariantFactory()

    response = service_client.post(
        "/internal/v1/quotes/",
        {
            "lines": [
                {"variant_id": str(capped.id), "quantity": 1},
                {"variant_id": str(default.id), "quantity": 1},
            ]
        },
        format="json",
    )

    assert response.status_code == 200
    assert [line["max_units_per_buyer"] for line in response.json()["lines"]] == [2, 10]


def test_quote_names_each_unavailable_line(service_client):
    good = VariantFactory()
    archived = VariantFactory(product=ProductFactory(status=Product.Status.ARCHIVED))
    response = service_client.post(
        "/internal/v1/quotes/",
        {
            "lines": [
                {"variant_id": str(good.id), "quantity": 1},
                {"variant_id": str(uuid.uuid4()), "quantity": 1},
                {"variant_id": str(archived.id), "quantity": 1},
            ]
        },
        format="json",
    )
    assert response.status_code == 422
    body = response.json()
    assert body["code"] == "variant_unavailable"
    assert [error["field"] for error in body["errors"]] == [
        "lines[1].variant_id",
        "lines[2].variant_id",
    ]


@pytest.mark.parametrize("currency", ["EUX", "eur", "Eur", "EU"])
def test_quote_takes_only_the_upper_case_codes_its_schema_lists(service_client, currency):
    variant = VariantFactory(price_amount=1250)
    lines = [{"variant_id": str(variant.id), "quantity": 1}]

    refused = service_client.post(
        "/internal/v1/quotes/", {"lines": lines, "currency": currency}, format="json"
    )
    accepted = service_client.post(
        "/internal/v1/quotes/", {"lines": lines, "currency": "EUR"}, format="json"
    )

    assert refused.status_code == 400
    assert refused["Content-Type"] == "application/problem+json"
    assert refused.json()["errors"][0]["code"] == "unknown_currency"
    assert accepted.status_code == 200


def test_quote_rejects_an_unknown_currency_and_a_mismatched_one(service_client):
    variant = VariantFactory()
    lines = [{"variant_id": str(variant.id), "quantity": 1}]
    unknown = service_client.post(
        "/internal/v1/quotes/", {"lines": lines, "currency": "EUX"}, format="json"
    )
    assert unknown.status_code == 400
    assert unknown.json()["errors"] == [
        {
            "field": "currency",
            "code": "unknown_currency",
            "message": "'EUX' is not an ISO 4217 currency code.",
        }
    ]
    mismatch = service_client.post(
        "/internal/v1/quotes/", {"lines": lines, "currency": "USD"}, format="json"
    )
    assert mismatch.status_code == 422
    assert mismatch.json()["code"] == "currency_mismatch"
