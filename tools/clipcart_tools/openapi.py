"""One OpenAPI document for the whole public API (ADR 29).

Each service describes itself (drf-spectacular, `manage.py spectacular`); app developers
want one API. `merge` takes the three documents and keeps their public paths
(`/api/v1/…`, never `/internal/`) unchanged, with the components those paths use. A
component several services define identically is kept once; the same name with
different shapes, one path claimed by two services, or one operationId used twice is a
`MergeConflict` naming each. `clipcart openapi` writes the result to
`infra/gateway/openapi.json`, which the gateway serves at `/api/schema/` (and shows at
`/api/docs/`); `clipcart openapi --check` fails when that file is stale.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[2]
DOCUMENT = ROOT / "infra" / "gateway" / "openapi.json"
SERVICES = ("catalog", "video", "checkout")
PUBLIC_PREFIX = "/api/v1/"
TITLE = "clipcart API"
DESCRIPTION = (
    "The public API of clipcart, one document for the whole app: the schemas of the "
    "services behind the gateway merged, every path as the gateway serves it. Built by "
    "`clipcart openapi` (ADR 29)."
)
_REF = re.compile(r"^#/components/([^/]+)/([^/]+)$")
_PARAMETER = re.compile(r"\{[^}/]*\}")

Schema = dict[str, Any]


class MergeConflict(Exception):
    """Services' documents that cannot become one: each problem names what and who."""

    def __init__(self, problems: list[str]) -> None:
        self.problems = problems
        super().__init__("the services' OpenAPI documents conflict:\n  " + "\n  ".join(problems))


def service_schema(service: str) -> Schema:
    """What `service` serves at `/api/schema/`, generated in-process (no server, no
    database): `manage.py spectacular`, failing on any warning."""
    completed = subprocess.run(
        [
            sys.executable,
            "manage.py",
            "spectacular",
            "--settings=config.settings.test",
            "--format=openapi-json",
            "--fail-on-warn",
        ],
        cwd=ROOT / "services" / service,
        env={**os.environ, "DATABASE_URL": os.environ.get("DATABASE_URL", "postgresql:///x")},
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    if completed.returncode != 0:
        raise RuntimeError(f"{service}: schema generation failed\n{completed.stderr}")
    schema: Schema = json.loads(completed.stdout)
    return schema


def _refs(node: Any) -> Iterable[tuple[str, str]]:
    """Every `#/components/<kind>/<name>` that `node` points at, directly."""
    if isinstance(node, dict):
        for key, value in node.items():
            if key == "$ref" and isinstance(value, str) and (match := _REF.match(value)):
                yield match.group(1), match.group(2)
            else:
                yield from _refs(value)
    elif isinstance(node, list):
        for item in node:
            yield from _refs(item)


def _security_schemes(operations: Mapping[str, Any]) -> Iterable[tuple[str, str]]:
    for operation in operations.values():
        if isinstance(operation, dict):
            for requirement in operation.get("security") or []:
                for name in requirement:
                    yield "securitySchemes", name


def _used_components(schema: Schema, paths: Mapping[str, Any]) -> set[tuple[str, str]]:
    """The components `paths` use, followed through components that use others."""
    components = schema.get("components", {})
    pending = [
        *(ref for operations in paths.values() for ref in _refs(operations)),
        *(ref for operations in paths.values() for ref in _security_schemes(operations)),
    ]
    used: set[tuple[str, str]] = set()
    while pending:
        kind, name = pending.pop()
        if (kind, name) in used:
            continue
        if name not in components.get(kind, {}):
            raise MergeConflict([f"component {kind}/{name}: used but not defined"])
        used.add((kind, name))
        pending.extend(_refs(components[kind][name]))
    return used


def path_shape(path: str) -> str:
    """`/api/v1/products/{}/` for `/api/v1/products/{product_id}/`: the same URL whatever
    its parameters are called."""
    return _PARAMETER.sub("{}", path)


def merge(schemas: Mapping[str, Schema], *, version: str | None = None) -> Schema:
    """One document of the public paths of `schemas` (service name → its document)."""
    problems: list[str] = []
    paths: dict[str, Any] = {}
    path_owners: dict[str, list[tuple[str, str]]] = {}
    operation_owners: dict[str, list[str]] = {}
    definitions: dict[tuple[str, str], list[tuple[str, Any]]] = {}
    for service, schema in schemas.items():
        public = {
            path: operations
            for path, operations in schema.get("paths", {}).items()
            if path.startswith(PUBLIC_PREFIX)
        }
        for path, operations in public.items():
            path_owners.setdefault(path_shape(path), []).append((service, path))
            paths.setdefault(path, operations)
            for operation in operations.values():
                if isinstance(operation, dict) and "operationId" in operation:
                    operation_owners.setdefault(operation["operationId"], []).append(service)
        try:
            used = _used_components(schema, public)
        except MergeConflict as conflict:
            problems += [f"{service}: {problem}" for problem in conflict.problems]
            continue
        for kind, name in used:
            body = schema["components"][kind][name]
            definitions.setdefault((kind, name), []).append((service, body))

    for shape, owners in sorted(path_owners.items()):
        if len(owners) > 1:
            claims = ", ".join(f"{service} ({path})" for service, path in owners)
            problems.append(f"path {shape}: claimed by {claims}")
    for operation_id, services in sorted(operation_owners.items()):
        if len(services) > 1:
            problems.append(f"operationId {operation_id}: used by {', '.join(services)}")
    components: dict[str, dict[str, Any]] = {}
    for (kind, name), bodies in sorted(definitions.items()):
        first = bodies[0][1]
        if any(body != first for _, body in bodies[1:]):
            services = ", ".join(service for service, _ in bodies)
            problems.append(f"component {kind}/{name}: different shapes in {services}")
        components.setdefault(kind, {})[name] = first
    versions = sorted({schema.get("openapi", "") for schema in schemas.values()})
    if len(versions) > 1:
        problems.append(f"openapi versions differ: {', '.join(versions)}")
    if problems:
        raise MergeConflict(problems)

    descriptions = "\n".join(
        f"- **{service}**: {schema.get('info', {}).get('description', '')}".rstrip()
        for service, schema in schemas.items()
    )
    info_versions = {schema.get("info", {}).get("version", "") for schema in schemas.values()}
    return {
        "openapi": versions[0] if versions else "3.0.3",
        "info": {
            "title": TITLE,
            "version": version or (info_versions.pop() if len(info_versions) == 1 else ""),
            "description": f"{DESCRIPTION}\n\n{descriptions}",
        },
        "paths": paths,
        "components": components,
    }


def render(document: Schema) -> str:
    """The document as `infra/gateway/openapi.json` holds it."""
    return json.dumps(document, indent=2, ensure_ascii=False) + "\n"


def build(services: Iterable[str] = SERVICES) -> Schema:
    return merge({service: service_schema(service) for service in services})


def update(*, check: bool = False, output: Path = DOCUMENT) -> tuple[bool, str]:
    """Write the merged document to `output` (with `check`, only compare): whether all is
    well, and what to tell the developer."""
    try:
        text = render(build())
    except MergeConflict as conflict:
        return False, str(conflict)
    if check:
        if not output.is_file() or output.read_text() != text:
            return False, f"{output} is stale: run `make openapi` and commit it."
        return True, f"{output} is current."
    output.write_text(text)
    return True, f"Wrote {output}: the gateway serves it at /api/schema/ and /api/docs/."
