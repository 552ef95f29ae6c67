"""Where a schema once said something the service did not do (issue 13): who may call each
operation, and which values a parameter or field takes. Behaviour is tested in each
service's suite and by schemathesis (`test_schemathesis.py`); this pins the schema."""

from __future__ import annotations

import pytest

from clipcart_shared.money import KNOWN_CURRENCIES
from tests.contract.openapi import field, operation, resolved, service_schema

SERVICES = ("catalog", "video", "checkout")
ANONYMOUS_OR_USER = [{"mobileUser": []}, {}]


@pytest.mark.parametrize("service", SERVICES)
def test_internal_operations_accept_only_a_service_credential(service):
    # A user token gets 403 there: the user login is no way in, so the schema does not offer it.
    schema = service_schema(service)
    internal = [
        (method, path, item)
        for path, operations in schema["paths"].items()
        if path.startswith("/internal/")
        for method, item in operations.items()
    ]

    assert internal or service == "video"
    for method, path, item in internal:
        assert item["security"] == [{"service": []}], (method, path)


def test_a_video_is_read_like_the_feed_by_anyone_signed_in_or_not():
    schema = service_schema("video")

    assert operation(schema, "GET", "/api/v1/feed/")["security"] == ANONYMOUS_OR_USER
    assert operation(schema, "GET", "/api/v1/videos/{id}/")["security"] == ANONYMOUS_OR_USER
    assert {} not in operation(schema, "PATCH", "/api/v1/videos/{id}/")["security"]


def test_a_quote_takes_exactly_the_currencies_the_service_knows():
    schema = service_schema("catalog")
    body = operation(schema, "POST", "/internal/v1/quotes/")["requestBody"]
    request = resolved(schema, body["content"]["application/json"]["schema"])

    assert sorted(field(schema, request, "currency")["enum"]) == sorted(KNOWN_CURRENCIES)


def test_an_empty_product_search_is_allowed_as_the_service_allows_it():
    parameters = operation(service_schema("catalog"), "GET", "/api/v1/products/")["parameters"]
    [search] = [item for item in parameters if item["name"] == "q"]

    assert search["schema"].get("minLength", 0) == 0
