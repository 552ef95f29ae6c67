"""The gateway routes what the API contract (docs/API.md, read by `tests.api_contract`)
promises to the service that owns it: the first segment after /api/v1/ is the resource,
owned by exactly one service.
"""

from __future__ import annotations

import json
import re
from http import HTTPStatus
from pathlib import Path, PurePosixPath

import drf_spectacular_sidecar
import pytest

from clipcart_shared.errors import TYPE_BASE, ErrorCode
from clipcart_tools import openapi as one_document
from tests import api_contract
from tests.infra import compose, dockerfile, nginx
from tests.infra.compose import ROOT
from tests.infra.services import SERVICES

GATEWAY = ROOT / "infra/gateway"
TEMPLATE = GATEWAY / "default.conf.template"
SAMPLE_ID = "6f1f3c1e-2b7a-4c55-9d0e-8a1b2c3d4e5f"
_URLCONF_ROUTES = re.compile(r"""path\(\s*["']([a-z0-9-]+)/""")


def _rendered() -> str:
    """The template as the nginx image renders it with the gateway's compose environment."""
    environment = compose.container("gateway").environment
    return re.sub(
        r"\$\{([A-Z_][A-Z0-9_]*)\}", lambda m: environment[m.group(1)], TEMPLATE.read_text()
    )


def _configuration() -> list[nginx.Directive]:
    return nginx.parse(_rendered())


def _server() -> nginx.Directive:
    servers = [item for item in _configuration() if item.name == "server"]
    assert len(servers) == 1
    return servers[0]


def _locations() -> list[nginx.Location]:
    return nginx.locations(_server())


def _route(path: str) -> nginx.Location:
    location = nginx.match(_locations(), path)
    assert location is not None, f"no location matches {path}"
    return location


def contract_paths() -> dict[str, set[str]]:
    """Each service's public and internal paths in the contract, `{…}` filled in."""
    return api_contract.contract_paths(fill=SAMPLE_ID)


def urlconf_resources(service: str) -> set[str]:
    """The first segments of the `api_v1` routes in the service's URLconf."""
    text = (ROOT / f"services/{service}/config/urls.py").read_text()
    block = re.search(r"^api_v1 = \[(.*?)^\]", text, re.MULTILINE | re.DOTALL)
    assert block, f"{service}: no api_v1 list in config/urls.py"
    return set(_URLCONF_ROUTES.findall(block.group(1)))


def _public(paths: set[str]) -> list[str]:
    return sorted(path for path in paths if path.startswith("/api/v1/"))


def _internal(paths: set[str]) -> list[str]:
    return sorted(path for path in paths if path.startswith("/internal/"))


def test_the_contract_names_every_services_paths():
    paths = contract_paths()

    assert sorted(paths) == SERVICES
    assert sum(len(_public(item)) for item in paths.values()) >= 20
    assert "/api/v1/products/" in paths["catalog"]
    assert f"/api/v1/hashtags/{SAMPLE_ID}/videos/" in paths["video"]
    assert "/internal/v1/quotes/" in paths["catalog"]


@pytest.mark.parametrize(
    ("service", "path"),
    [(service, path) for service, paths in contract_paths().items() for path in _public(paths)],
)
def test_every_public_path_of_the_contract_routes_to_its_service(service, path):
    location = _route(path)
    resource = path.removeprefix("/api/v1/").split("/")[0]

    assert location.upstream == service
    assert location.path == f"/api/v1/{resource}/"  # routed by the first segment alone
    assert location.upstream_path(path) == path  # passed on unchanged


def test_each_resource_belongs_to_exactly_one_service():
    owners: dict[str, set[str]] = {}
    for service, paths in contract_paths().items():
        for path in _public(paths):
            owners.setdefault(path.removeprefix("/api/v1/").split("/")[0], set()).add(service)

    assert {resource: names for resource, names in owners.items() if len(names) > 1} == {}
    assert {"products", "feed", "videos", "creators", "events", "hashtags", "search"} <= set(owners)
    assert {"cart", "checkouts", "orders", "webhooks"} <= set(owners)


@pytest.mark.parametrize("service", SERVICES)
def test_every_resource_a_service_serves_routes_to_it(service):
    # The code may be ahead of the copied contract; the gateway must follow the code too.
    resources = urlconf_resources(service)

    assert resources
    for resource in resources:
        assert _route(f"/api/v1/{resource}/").upstream == service, resource


def test_internal_paths_are_never_routed():
    internal = [path for paths in contract_paths().values() for path in _internal(paths)]
    probes = [*internal, "/internal/", "/internal/v1/anything/at/all", "/internal"]

    assert len(internal) >= 3
    for path in probes:
        location = _route(path)
        assert location.proxy_pass is None, path
        assert location.returns is not None and location.returns[0] == 404, path


def test_no_proxied_location_covers_internal_or_everything():
    for location in _locations():
        if location.proxy_pass is None:
            continue
        assert not location.path.startswith("/internal"), location.path
        assert location.path.startswith(("/api/v1/", *(f"/{name}/" for name in SERVICES)))
        assert location.path.endswith("/"), location.path  # /api/v1/cart/ never matches /cartx


def test_unknown_paths_get_the_gateways_own_404():
    for path in ("/", "/api/", "/api/v1/", "/api/v1/unknown/", "/api/docsx/", "/admin/"):
        location = _route(path)
        assert location.proxy_pass is None, path
        assert location.returns is not None and location.returns[0] == 404, path


@pytest.mark.parametrize("service", SERVICES)
def test_each_services_admin_and_static_files_route_to_it_unchanged(service):
    settings_text = (ROOT / f"services/{service}/config/settings/base.py").read_text()

    assert f'STATIC_URL = "/{service}/static/"' in settings_text
    for path in (
        f"/{service}/admin/",
        f"/{service}/admin/login/",
        f"/{service}/static/admin/css/base.css",
    ):
        location = _route(path)
        assert location.upstream == service, path
        assert location.upstream_path(path) == path


@pytest.mark.parametrize("service", SERVICES)
def test_each_services_api_docs_and_schema_route_to_it_under_its_name(service):
    docs = _route(f"/{service}/api/docs/")
    schema = _route(f"/{service}/api/schema/")

    assert docs.upstream == schema.upstream == service
    assert docs.upstream_path(f"/{service}/api/docs/") == "/api/docs/"
    assert schema.upstream_path(f"/{service}/api/schema/") == "/api/schema/"


def _served_file(path: str) -> Path:
    """The repository file the gateway answers `path` with: the location's
    `try_files` in its `root`, copied there by the gateway's Dockerfile."""
    location = _route(path)
    root = location._argument_of("root")
    tried = location._argument_of("try_files")

    assert location.modifier == "=" and location.proxy_pass is None, path
    assert root is not None and tried is not None and tried[-1] == "=404", path
    target = PurePosixPath(root[0]) / tried[0].lstrip("/")
    sources = {
        copy.target_of(source): source
        for copy in dockerfile.copies(GATEWAY / "Dockerfile")
        for source in copy.sources
    }
    assert target in sources, f"{path}: the image has nothing at {target}"
    return GATEWAY / sources[target]


def test_the_one_api_document_is_served_at_api_schema():
    served = _served_file("/api/schema/")

    assert served == one_document.DOCUMENT
    document = json.loads(served.read_text())
    assert document["info"]["title"] == "clipcart API"
    assert document["paths"] and all(path.startswith("/api/v1/") for path in document["paths"])
    # Each path of the document reaches its service through the gateway, unchanged.
    for path in document["paths"]:
        assert _route(path.replace("{", "").replace("}", "")).proxy_pass, path


def test_the_browsable_page_at_api_docs_shows_that_document_with_local_files_only():
    page = _served_file("/api/docs/").read_text()
    assets = re.findall(r'(?:src|href)="([^"]+)"', page)
    sidecar = Path(drf_spectacular_sidecar.__file__).parent / "static"

    assert page.startswith("<!DOCTYPE html>") and _served_file("/api/docs/").suffix == ".html"
    assert 'url: "/api/schema/"' in page
    assert "http://" not in page and "https://" not in page  # no CDN
    assert {asset.rsplit("/", 1)[1] for asset in assets} >= {
        "swagger-ui-bundle.js",
        "swagger-ui-standalone-preset.js",
        "swagger-ui.css",
    }
    for asset in assets:  # catalog's static files, as WhiteNoise serves them
        assert asset.startswith("/catalog/static/"), asset
        assert _route(asset).upstream == "catalog"
        assert (sidecar / asset.removeprefix("/catalog/static/")).is_file(), asset


def test_upstreams_are_the_compose_web_processes():
    upstreams = {
        item.arguments[0]: [server.arguments[0] for server in item.children("server")]
        for item in _configuration()
        if item.name == "upstream"
    }
    proxied = {location.upstream for location in _locations() if location.proxy_pass}

    assert sorted(upstreams) == sorted(proxied) == SERVICES
    for name, servers in upstreams.items():
        command = compose.container(name).command
        assert compose.container(name).clipcart_service == name
        assert servers == [f"{name}:{command[command.index('--bind') + 1].rsplit(':', 1)[1]}"]


def test_every_template_variable_is_set_for_the_gateway_and_only_those():
    names = set(re.findall(r"\$\{([A-Z_][A-Z0-9_]*)\}", TEMPLATE.read_text()))
    environment = compose.container("gateway").environment

    assert names == {"CATALOG_UPSTREAM", "VIDEO_UPSTREAM", "CHECKOUT_UPSTREAM"}
    assert set(environment) == names
    # The image's entrypoint substitutes only names matching its filter (_UPSTREAM).
    assert all("_UPSTREAM" in name for name in names)


def test_what_the_gateway_answers_itself_is_problem_json_in_the_services_format():
    answers = [
        location.returns
        for location in _locations()
        if location.returns and location.returns[0] >= 400
    ]

    assert {status for status, _ in answers} == {404, 413, 503}
    for status, body in answers:
        problem = json.loads(body)
        assert problem == {
            "type": TYPE_BASE + problem["code"],
            "title": HTTPStatus(status).phrase,
            "status": status,
            "code": problem["code"],
            "detail": problem["detail"],
        }
        assert problem["code"] in {code.value for code in ErrorCode}
    server_types = [item.arguments for item in _server().children("default_type")]
    assert server_types == [["application/problem+json"]]


def test_error_pages_lead_to_named_locations_that_exist():
    named = {location.path for location in _locations() if location.modifier == "@"}
    pages = [item.arguments for item in _server().children("error_page")]

    assert pages
    for arguments in pages:
        assert arguments[-2] == "=" and arguments[-1] in named, arguments


def test_the_gateway_health_check_hits_its_own_healthz_on_its_port():
    gateway = compose.container("gateway")
    url = gateway.spec["healthcheck"]["test"][-1]
    listen = _server().child("listen")
    healthz = _route("/healthz")

    assert listen is not None
    assert url == f"http://127.0.0.1:{listen.arguments[0]}/healthz"
    assert gateway.spec["ports"][0].endswith(f":{listen.arguments[0]}")
    assert healthz.modifier == "=" and healthz.returns is not None
    assert healthz.returns[0] == 200


def test_the_gateway_starts_after_the_services_it_routes_to_are_healthy():
    depends_on = compose.container("gateway").spec["depends_on"]

    assert depends_on == {name: {"condition": "service_healthy"} for name in SERVICES}


def test_the_gateway_passes_the_host_with_its_port_and_the_request_id():
    headers = {
        item.arguments[0]: item.arguments[1] for item in _server().children("proxy_set_header")
    }

    # Django compares an admin form's Origin with the Host (CSRF); $host would drop the port.
    assert headers["Host"] == "$http_host"
    # The TLS proxy's scheme when there is one (production redirects HTTP pages to HTTPS).
    assert headers["X-Forwarded-Proto"] == "$clipcart_forwarded_proto"
    assert headers["X-Request-ID"] == "$clipcart_request_id"


def test_the_parser_reads_nested_blocks_quotes_and_comments():
    parsed = nginx.parse(
        "# a comment; with { braces }\n"
        "server { listen 80; location = /x { return 200 'a; {b}'; } }\n"
        "upstream u { server ${HOST}:8000; }\n"
    )

    assert [item.name for item in parsed] == ["server", "upstream"]
    location = nginx.locations(parsed[0])[0]
    assert (location.modifier, location.path, location.returns) == ("=", "/x", (200, "a; {b}"))
    assert parsed[1].children("server")[0].arguments == ["${HOST}:8000"]


def test_matching_follows_nginx_exact_then_longest_prefix():
    candidates = [
        nginx.Location("", "/"),
        nginx.Location("", "/api/v1/cart/"),
        nginx.Location("", "/api/v1/"),
        nginx.Location("=", "/api/v1/cart/"),
    ]

    assert nginx.match(candidates, "/api/v1/cart/") is candidates[3]
    assert nginx.match(candidates, "/api/v1/cart/lines/") is candidates[1]
    assert nginx.match(candidates, "/api/v1/cartx/") is candidates[2]
    assert nginx.match(candidates, "/other") is candidates[0]
    with pytest.raises(ValueError):
        nginx.match([nginx.Location("~", "^/api/")], "/api/")
