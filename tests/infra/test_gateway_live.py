"""The gateway's template served by a real nginx, in front of stand-in services on
127.0.0.1 that answer with what they received. The nginx is $NGINX, else Debian's (which
`make nginx` installs, and `make test` runs first), else the one on PATH; test_gateway.py
checks the routes without one.
"""

from __future__ import annotations

import http.server
import json
import os
import re
import shutil
import subprocess
import tempfile
import threading
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest

from clipcart_tools.testing.services import free_port
from tests.infra.compose import ROOT

DEBIAN_NGINX = "/usr/sbin/nginx"
NGINX = (
    os.environ.get("NGINX")
    or (DEBIAN_NGINX if os.access(DEBIAN_NGINX, os.X_OK) else None)
    or shutil.which("nginx")
)


class _Echo(http.server.BaseHTTPRequestHandler):
    """Answers every request with the service's name and what the gateway passed on."""

    def _answer(self) -> None:
        length = int(self.headers.get("Content-Length") or 0)
        self.rfile.read(length)
        body = json.dumps(
            {
                "service": self.server.service_name,  # type: ignore[attr-defined]
                "path": self.path,
                "host": self.headers["Host"],
                "request_id": self.headers.get("X-Request-ID"),
            }
        ).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    do_GET = do_POST = _answer

    def log_message(self, *args: object) -> None:
        pass


@pytest.fixture(scope="module")
def gateway() -> Iterator[str]:
    """The gateway's base URL; catalog and video answer, checkout is down."""
    assert NGINX, "no nginx binary: `make nginx` installs Debian's (or set NGINX=/path/to/nginx)"
    servers = []
    upstreams = {}
    for name in ("catalog", "video"):
        server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _Echo)
        server.service_name = name  # type: ignore[attr-defined]
        threading.Thread(target=server.serve_forever, daemon=True).start()
        servers.append(server)
        upstreams[f"{name.upper()}_UPSTREAM"] = f"127.0.0.1:{server.server_address[1]}"
    upstreams["CHECKOUT_UPSTREAM"] = f"127.0.0.1:{free_port()}"  # nothing listens
    port = free_port()

    with tempfile.TemporaryDirectory() as prefix:
        site = re.sub(
            r"\$\{([A-Z_]+)\}",
            lambda match: upstreams[match.group(1)],
            (ROOT / "infra/gateway/default.conf.template").read_text(),
        )
        site = site.replace("listen 8080;", f"listen 127.0.0.1:{port};")
        site = site.replace("/var/log/nginx/access.log", f"{prefix}/access.log")
        # The one API document's files, where the gateway's Dockerfile copies them from.
        site = site.replace("root /usr/share/nginx/clipcart;", f"root {ROOT}/infra/gateway;")
        Path(prefix, "site.conf").write_text(site)
        Path(prefix, "nginx.conf").write_text(
            f"daemon off;\npid {prefix}/nginx.pid;\nerror_log {prefix}/error.log;\n"
            "events {}\nhttp {\n"
            + "".join(
                f"    {kind}_temp_path {prefix}/{kind};\n"
                for kind in ("client_body", "proxy", "fastcgi", "uwsgi", "scgi")
            )
            + f"    include {prefix}/site.conf;\n}}\n"
        )
        process = subprocess.Popen(
            [NGINX, "-p", prefix, "-c", f"{prefix}/nginx.conf"],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
        )
        try:
            base_url = f"http://127.0.0.1:{port}"
            deadline = time.monotonic() + 10
            while True:
                try:
                    urllib.request.urlopen(f"{base_url}/healthz", timeout=1).close()
                    break
                except OSError:
                    if process.poll() is not None or time.monotonic() > deadline:
                        process.kill()
                        _, errors = process.communicate(timeout=10)
                        raise RuntimeError(f"nginx did not start: {errors!r}") from None
                    time.sleep(0.05)
            yield base_url
        finally:
            process.terminate()
            process.wait(timeout=10)
            for server in servers:
                server.shutdown()
                server.server_close()


def _get(url: str, **kwargs) -> tuple[int, str, dict]:
    request = urllib.request.Request(url, **kwargs)
    try:
        with urllib.request.urlopen(request, timeout=5) as response:
            return response.status, response.headers["Content-Type"], json.load(response)
    except urllib.error.HTTPError as error:
        return error.code, error.headers["Content-Type"], json.load(error)


def test_resources_reach_their_service_with_path_query_host_and_request_id(gateway):
    status, _, echoed = _get(
        f"{gateway}/api/v1/products/?q=boots", headers={"X-Request-ID": "req-1"}
    )

    assert status == 200
    assert echoed == {
        "service": "catalog",
        "path": "/api/v1/products/?q=boots",
        "host": gateway.removeprefix("http://"),
        "request_id": "req-1",
    }
    assert _get(f"{gateway}/api/v1/feed/")[2]["service"] == "video"


def test_a_request_without_an_id_gets_one_from_the_gateway(gateway):
    _, _, echoed = _get(f"{gateway}/api/v1/feed/")

    assert re.fullmatch(r"[0-9a-f]{32}", echoed["request_id"])


def test_api_docs_under_the_service_name_reach_the_services_own_path(gateway):
    assert _get(f"{gateway}/catalog/api/docs/")[2]["path"] == "/api/docs/"
    assert _get(f"{gateway}/video/api/schema/?format=json")[2]["path"] == (
        "/api/schema/?format=json"
    )


def test_the_one_api_document_and_its_page_are_the_gateways_own_files(gateway):
    with urllib.request.urlopen(f"{gateway}/api/schema/", timeout=5) as response:
        status, content_type, body = (
            response.status,
            response.headers["Content-Type"],
            (response.read()),
        )
    with urllib.request.urlopen(f"{gateway}/api/docs/", timeout=5) as page:
        page_type, page_body = page.headers["Content-Type"], page.read().decode()

    assert (status, content_type) == (200, "application/json")
    assert body == (ROOT / "infra/gateway/openapi.json").read_bytes()
    assert page_type.startswith("text/html")
    assert page_body == (ROOT / "infra/gateway/docs.html").read_text()


@pytest.mark.parametrize(
    "path",
    [
        "/internal/v1/quotes/",
        "/api/v1/../internal/v1/quotes/",
        "/api/v1/products/..%2F..%2F..%2Finternal/v1/quotes/",
        "/api/v1/products/%2e%2e/%2e%2e/%2e%2e/internal/v1/quotes/",
        "/api/v1/productsx/",
        "/",
    ],
)
def test_internal_and_unknown_paths_get_the_gateways_404_problem(gateway, path):
    # urllib sends the path as given, without normalising it, like a hostile client.
    status, content_type, problem = _get(gateway + path)

    assert (status, content_type) == (404, "application/problem+json")
    assert problem["code"] == "not_found"


def test_a_service_that_is_down_gives_a_503_problem(gateway):
    status, content_type, problem = _get(f"{gateway}/api/v1/cart/")

    assert (status, content_type) == (503, "application/problem+json")
    assert problem["code"] == "dependency_unavailable"


def test_a_body_over_the_gateways_limit_gives_a_413_problem(gateway):
    status, content_type, problem = _get(
        f"{gateway}/api/v1/events/", data=b"x" * (3 * 1024 * 1024), method="POST"
    )

    assert (status, content_type) == (413, "application/problem+json")
    assert problem["code"] == "request_too_large"
