"""The one API document the gateway serves (ADR 29): the services' public schemas
merged by `clipcart_tools.openapi`, paths unchanged; two services claiming one path, or
one component name with two shapes, is an error naming them. The committed
`infra/gateway/openapi.json` is what merging the services' schemas gives today."""

from __future__ import annotations

import copy
import json
from typing import Any

import pytest

from clipcart_tools import openapi as one_document
from tests.api_contract import SERVICES, contract_paths, path_shape
from tests.contract.openapi import service_schema

Schema = dict[str, Any]
MONEY = {"type": "object", "properties": {"amount": {"type": "string"}}}


def _ref(name: str) -> dict[str, str]:
    return {"$ref": f"#/components/schemas/{name}"}


def _answering(name: str) -> Schema:
    return {"responses": {"200": {"content": {"application/json": {"schema": _ref(name)}}}}}


def _schema(title: str, paths: dict[str, Any], schemas: dict[str, Any]) -> Schema:
    return {
        "openapi": "3.0.3",
        "info": {"title": title, "version": "1.0.0", "description": f"The {title} service."},
        "paths": paths,
        "components": {
            "schemas": schemas,
            "securitySchemes": {
                "mobileUser": {"type": "http", "scheme": "bearer"},
                "service": {"type": "http", "scheme": "bearer"},
            },
        },
    }


def _shop() -> Schema:
    return _schema(
        "shop",
        {
            "/api/v1/products/{product_id}/": {
                "get": {
                    "operationId": "products_retrieve",
                    "security": [{"mobileUser": []}, {}],
                    **_answering("Product"),
                }
            },
            "/internal/v1/quotes/": {
                "post": {
                    "operationId": "quotes_create",
                    "security": [{"service": []}],
                    **_answering("Quote"),
                }
            },
        },
        {
            "Product": {"type": "object", "properties": {"price": _ref("Money")}},
            "Money": MONEY,
            "Quote": {"type": "object"},
            "Unused": {"type": "string"},
        },
    )


def _pay() -> Schema:
    return _schema(
        "pay",
        {
            "/api/v1/cart/": {
                "get": {
                    "operationId": "cart_retrieve",
                    "security": [{"mobileUser": []}],
                    **_answering("Cart"),
                }
            }
        },
        {
            "Cart": {"type": "object", "properties": {"total": _ref("Money")}},
            "Money": copy.deepcopy(MONEY),
        },
    )


def _conflict(schemas: dict[str, Schema]) -> list[str]:
    with pytest.raises(one_document.MergeConflict) as raised:
        one_document.merge(schemas)
    return raised.value.problems


def test_public_paths_are_kept_unchanged_and_internal_ones_left_out():
    shop, pay = _shop(), _pay()

    merged = one_document.merge({"shop": shop, "pay": pay})

    assert list(merged["paths"]) == ["/api/v1/products/{product_id}/", "/api/v1/cart/"]
    assert merged["paths"]["/api/v1/cart/"] == pay["paths"]["/api/v1/cart/"]
    assert (
        merged["paths"]["/api/v1/products/{product_id}/"]
        == (shop["paths"]["/api/v1/products/{product_id}/"])
    )
    # Only what the public paths use: the internal quote, the unused schema and the
    # service-to-service scheme stay out.
    assert sorted(merged["components"]["schemas"]) == ["Cart", "Money", "Product"]
    assert sorted(merged["components"]["securitySchemes"]) == ["mobileUser"]
    assert merged["info"]["title"] == "clipcart API"
    assert merged["info"]["version"] == "1.0.0"
    assert "The shop service." in merged["info"]["description"]


def test_a_component_two_services_define_alike_is_kept_once():
    merged = one_document.merge({"shop": _shop(), "pay": _pay()})

    assert merged["components"]["schemas"]["Money"] == MONEY
    assert json.dumps(merged).count('"Money": {') == 1


def test_one_component_name_with_two_shapes_is_an_error_naming_it_and_its_services():
    pay = _pay()
    pay["components"]["schemas"]["Money"]["properties"]["currency"] = {"type": "string"}

    problems = _conflict({"shop": _shop(), "pay": pay})

    assert problems == ["component schemas/Money: different shapes in shop, pay"]


def test_a_conflict_reached_only_through_another_component_is_found_too():
    pay = _pay()
    pay["components"]["schemas"]["Cart"]["properties"]["total"] = _ref("Total")
    pay["components"]["schemas"]["Total"] = {"type": "object", "properties": {"x": _ref("Money")}}
    pay["components"]["schemas"]["Money"] = {"type": "integer"}

    assert _conflict({"shop": _shop(), "pay": pay}) == [
        "component schemas/Money: different shapes in shop, pay"
    ]


def test_a_conflict_only_internal_paths_use_stays_out_of_the_public_document():
    pay = _pay()
    pay["components"]["schemas"]["Quote"] = {"type": "array"}  # shop's Quote is internal

    merged = one_document.merge({"shop": _shop(), "pay": pay})

    assert "Quote" not in merged["components"]["schemas"]


def test_one_path_claimed_by_two_services_is_an_error_naming_both():
    pay = _pay()
    pay["paths"]["/api/v1/products/{id}/"] = {
        "get": {"operationId": "pay_products", **_answering("Cart")}
    }

    problems = _conflict({"shop": _shop(), "pay": pay})

    assert problems == [
        "path /api/v1/products/{}/: claimed by shop (/api/v1/products/{product_id}/), "
        "pay (/api/v1/products/{id}/)"
    ]


def test_one_operation_id_in_two_services_is_an_error():
    # OpenAPI links and generated clients name operations by operationId.
    pay = _pay()
    pay["paths"]["/api/v1/cart/"]["get"]["operationId"] = "products_retrieve"

    assert _conflict({"shop": _shop(), "pay": pay}) == [
        "operationId products_retrieve: used by shop, pay"
    ]


def test_a_reference_to_nothing_is_an_error():
    pay = _pay()
    del pay["components"]["schemas"]["Cart"]

    assert _conflict({"shop": _shop(), "pay": pay}) == [
        "pay: component schemas/Cart: used but not defined"
    ]


def test_the_committed_document_is_the_merge_of_the_services_schemas_today():
    expected = one_document.render(
        one_document.merge({service: service_schema(service) for service in one_document.SERVICES})
    )

    assert sorted(one_document.SERVICES) == SERVICES  # a new service is merged too
    assert one_document.DOCUMENT.read_text() == expected, (
        "infra/gateway/openapi.json is stale: run `make openapi` and commit it"
    )


def test_the_document_has_every_public_path_of_the_contract_and_no_internal_one():
    document = json.loads(one_document.DOCUMENT.read_text())
    shapes = {path_shape(path) for path in document["paths"]}
    public = {
        path_shape(path)
        for paths in contract_paths().values()
        for path in paths
        if path.startswith("/api/v1/")
    }

    assert public <= shapes
    assert all(path.startswith("/api/v1/") for path in document["paths"])
    for service in SERVICES:  # each service's public paths, exactly as it serves them
        own = service_schema(service)["paths"]
        for path, operations in own.items():
            if path.startswith("/api/v1/"):
                assert document["paths"][path] == operations, path
