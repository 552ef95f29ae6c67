"""Every path and field that docs/API.md promises is in the owning service's OpenAPI
schema (the one it serves at /api/schema/), generated in-process by drf-spectacular.

The promises are written out as a table (`promises_<service>.py`), one entry per
operation, each quoting the API.md text it comes from: reading field lists out of prose
would be brittle. A path that API.md names and the table does not fails
`test_the_table_covers_every_path_of_the_contract`, so a new path in API.md needs a new
entry there (and a schema that has it).

Lists follow API.md's Lists convention, `{"results": [...], "next": ...}`: the feed's
items are under `results`, where the video section's prose says `videos`.
"""

from __future__ import annotations

from typing import Any

import pytest

from tests.api_contract import SERVICES, contract_paths, path_shape
from tests.contract import openapi
from tests.contract.promise import Promise
from tests.contract.promises_catalog import CATALOG_PROMISES
from tests.contract.promises_checkout import CHECKOUT_PROMISES
from tests.contract.promises_video import VIDEO_PROMISES

PROMISES: list[Any] = [*CATALOG_PROMISES, *VIDEO_PROMISES, *CHECKOUT_PROMISES]


def _promise(entry: Any) -> Promise:
    return entry.values[0] if hasattr(entry, "values") else entry


def _parameters() -> list[Any]:
    return [
        entry
        if hasattr(entry, "values")
        else pytest.param(entry, id=f"{entry.method} {entry.path}")
        for entry in PROMISES
    ]


def _body(schema: openapi.Schema, node: openapi.Schema) -> openapi.Schema:
    content = node.get("content", {})
    assert "application/json" in content, f"no JSON body; has {sorted(content)}"
    return openapi.resolved(schema, content["application/json"]["schema"])


def test_the_table_covers_every_path_of_the_contract():
    documented = contract_paths()
    listed = {(p.service, path_shape(p.path)) for p in map(_promise, PROMISES)}

    assert sorted(documented) == SERVICES
    missing = {
        (service, path_shape(path)) for service, paths in documented.items() for path in paths
    } - listed
    assert missing == set(), "paths in docs/API.md without an entry in PROMISES"


@pytest.mark.parametrize("promise", _parameters())
def test_the_owning_services_schema_keeps_the_contracts_promise(promise: Promise):
    schema = openapi.service_schema(promise.service)
    operation = openapi.operation(schema, promise.method, promise.path)

    names = {parameter["name"] for parameter in operation.get("parameters", [])}
    assert set(promise.parameters) <= names, (
        f"parameters missing: {set(promise.parameters) - names}"
    )
    if promise.status:
        assert promise.status in operation["responses"], sorted(operation["responses"])
    response = _body(schema, operation["responses"][promise.status]) if promise.response else {}
    for name in promise.response:
        openapi.field(schema, response, name)
    request = _body(schema, operation["requestBody"]) if promise.request else {}
    for name in promise.request:
        openapi.field(schema, request, name)
    for name, values in promise.enums.items():
        if name.startswith("request."):
            found = openapi.field(schema, request, name.removeprefix("request."))
        else:
            found = openapi.field(schema, response, name)
        assert set(found.get("enum", [])) - {None} == values, name


def test_the_contract_is_the_shared_one_of_today_with_returns_discounts_and_restocks():
    documented = contract_paths()

    assert {
        "/api/v1/orders/{id}/returns/",
        "/api/v1/cart/discount/",
        "/api/v1/webhooks/tracking/",
    } <= documented["checkout"]
    assert "/internal/v1/restocks/" in documented["catalog"]
    assert "/api/v1/creators/payout-accounts/stripe-webhook/" in documented["video"]
    # A prefix (`/api/v1/merchant/...`) is not read as a path.
    assert not [path for paths in documented.values() for path in paths if "..." in path]
