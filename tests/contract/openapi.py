"""Each service's OpenAPI schema, generated in-process by drf-spectacular (no server),
and a way to walk it by field names."""

from __future__ import annotations

from functools import cache
from typing import Any

from clipcart_tools import openapi as one_document
from tests.api_contract import path_shape

Schema = dict[str, Any]


@cache
def service_schema(service: str) -> Schema:
    """What the service serves at `/api/schema/`, as JSON (generated as the gateway's one
    API document is, by `clipcart_tools.openapi`)."""
    return one_document.service_schema(service)


def operation(schema: Schema, method: str, path: str) -> Schema:
    """The operation for `method` on `path` (parameter names need not match)."""
    shapes = {path_shape(name): operations for name, operations in schema["paths"].items()}
    operations = shapes.get(path_shape(path))
    assert operations is not None, f"{path} is not in the schema"
    assert method.lower() in operations, f"{method} {path} is not in the schema"
    found: Schema = operations[method.lower()]
    return found


def resolved(schema: Schema, node: Schema) -> Schema:
    """`node` with `$ref`s followed and `allOf`/`oneOf`/`anyOf` merged into one object
    (their properties together), so a field can be looked up by name."""
    if "$ref" in node:
        target: Schema = schema
        for part in node["$ref"].removeprefix("#/").split("/"):
            target = target[part]
        return resolved(schema, target)
    parts = [
        resolved(schema, part) for key in ("allOf", "oneOf", "anyOf") for part in node.get(key, [])
    ]
    if not parts:
        return node
    merged: Schema = {
        key: value for key, value in node.items() if key not in ("allOf", "oneOf", "anyOf")
    }
    for part in parts:
        merged.setdefault("properties", {}).update(part.get("properties", {}))
        for key in ("items", "enum", "type"):
            if key in part:
                merged.setdefault(key, part[key])
    return merged


def field(schema: Schema, node: Schema, dotted: str) -> Schema:
    """The schema of `dotted` inside `node`: `a.b` is property b of property a, `a[].b`
    property b of each item of array a."""
    for name in dotted.split("."):
        is_list = name.endswith("[]")
        name = name.removesuffix("[]")
        properties = resolved(schema, node).get("properties", {})
        assert name in properties, (
            f"no field {name!r} (looking for {dotted}); has {sorted(properties)}"
        )
        node = properties[name]
        if is_list:
            listed = resolved(schema, node)
            assert listed.get("type") == "array", f"{name} is not a list (looking for {dotted})"
            node = listed["items"]
    return resolved(schema, node)
