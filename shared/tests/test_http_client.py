"""ServiceClient against a real local HTTP server whose replies each test scripts."""

from __future__ import annotations

import json
import logging
import socket
import sys
import threading
import time
import types
from collections.abc import Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest
import requests

from clipcart_shared.http import ServiceClient, ServiceRejected, ServiceUnavailable


@dataclass
class Reply:
    status: int = 200
    body: Any = field(default_factory=dict)  # dict/list -> JSON, bytes -> sent as is
    content_type: str = "application/json"
    delay: float = 0.0


@dataclass
class Seen:
    method: str
    path: str
    headers: dict[str, str]
    body: bytes


class ScriptedServer:
    """Answers requests with `replies` in order and records what it received."""

    def __init__(self, replies: list[Reply]) -> None:
        self.replies = list(replies)
        self.seen: list[Seen] = []
        self._lock = threading.Lock()
        self._httpd = ThreadingHTTPServer(("127.0.0.1", 0), self._handler())
        # A client that timed out closes the socket; the late write must not spam stderr.
        self._httpd.handle_error = lambda request, address: None  # type: ignore[method-assign]
        # A short poll keeps shutdown() from waiting out the default half-second per test.
        self._thread = threading.Thread(
            target=self._httpd.serve_forever, kwargs={"poll_interval": 0.01}, daemon=True
        )

    @property
    def url(self) -> str:
        host, port = self._httpd.server_address[:2]
        return f"http://{host}:{port}"

    def _next(self, seen: Seen) -> Reply:
        with self._lock:
            self.seen.append(seen)
            if not self.replies:
                return Reply(599, {"error": "script exhausted"})
            return self.replies.pop(0)

    def _handler(self) -> type[BaseHTTPRequestHandler]:
        server = self

        class Handler(BaseHTTPRequestHandler):
            def _handle(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                seen = Seen(self.command, self.path, dict(self.headers), self.rfile.read(length))
                reply = server._next(seen)
                time.sleep(reply.delay)
                body = reply.body
                payload = body if isinstance(body, bytes) else json.dumps(body).encode()
                self.send_response(reply.status)
                self.send_header("Content-Type", reply.content_type)
                self.send_header("Content-Length", str(len(payload)))
                self.end_headers()
                self.wfile.write(payload)

            do_GET = do_POST = do_PUT = do_DELETE = _handle

            def log_message(self, format: str, *args: Any) -> None:
                pass

        return Handler

    def __enter__(self) -> ScriptedServer:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._httpd.shutdown()
        self._httpd.server_close()
        self._thread.join()


@pytest.fixture
def serve() -> Iterator[Any]:
    servers: list[ScriptedServer] = []

    def start(*replies: Reply) -> ScriptedServer:
        server = ScriptedServer(list(replies)).__enter__()
        servers.append(server)
        return server

    yield start
    for server in servers:
        server.__exit__()


@pytest.fixture(autouse=True)
def request_id(monkeypatch: pytest.MonkeyPatch) -> dict[str, str | None]:
    """Stand in for clipcart_shared.request_id so tests control the current id."""
    current: dict[str, str | None] = {"id": None}
    stub = types.ModuleType("clipcart_shared.request_id")
    stub.get_request_id = lambda: current["id"]  # type: ignore[attr-defined]
    monkeypatch.setitem(sys.modules, "clipcart_shared.request_id", stub)
    return current


def client(url: str, **overrides: Any) -> ServiceClient:
    options: dict[str, Any] = {
        "base_url": url,
        "service": "catalog",
        "credential": lambda: "tok-123",
        "connect_timeout": 0.5,
        "read_timeout": 1.0,
        "retries": 3,
        "backoff_seconds": 0.001,
        "breaker_fail_max": 50,
    }
    return ServiceClient(**(options | overrides))


def closed_port_url() -> str:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    return f"http://127.0.0.1:{port}"


class RecordingSession(requests.Session):
    def __init__(self) -> None:
        super().__init__()
        self.timeouts: list[Any] = []

    def request(self, method: str, url: str, *args: Any, **kwargs: Any) -> requests.Response:  # type: ignore[override]
        self.timeouts.append(kwargs.get("timeout"))
        return super().request(method, url, *args, **kwargs)


def test_get_returns_json_and_sends_credential_request_id_and_timeouts(serve, request_id):
    server = serve(Reply(200, {"sku": "A1", "price": 1299}))
    request_id["id"] = "req-abc"
    session = RecordingSession()
    api = client(server.url + "/", connect_timeout=0.25, read_timeout=1.5, session=session)

    assert api.get("/products/A1", params={"lang": "fr"}) == {"sku": "A1", "price": 1299}

    [seen] = server.seen
    assert (seen.method, seen.path) == ("GET", "/products/A1?lang=fr")
    assert seen.headers["Accept"] == "application/json"
    assert seen.headers["Authorization"] == "Service tok-123"
    assert seen.headers["X-Request-ID"] == "req-abc"
    assert "Idempotency-Key" not in seen.headers
    assert session.timeouts == [(0.25, 1.5)]


def test_no_request_id_header_without_current_id_or_module(serve, request_id, monkeypatch):
    server = serve(Reply(200, {}), Reply(200, {}))
    api = client(server.url, credential=None)
    api.get("/a")
    monkeypatch.setitem(sys.modules, "clipcart_shared.request_id", None)  # import -> ImportError
    api.get("/b")

    for seen in server.seen:
        assert "X-Request-ID" not in seen.headers
        assert "Authorization" not in seen.headers
    assert len(server.seen) == 2


def test_empty_body_returns_empty_dict(serve):
    server = serve(Reply(204, b""))
    assert client(server.url).request("DELETE", "/carts/7") == {}
    assert [s.method for s in server.seen] == ["DELETE"]


def test_get_retried_after_503_then_succeeds(serve, caplog):
    server = serve(Reply(503, {}), Reply(200, {"ok": True}))
    with caplog.at_level(logging.WARNING, logger="clipcart_shared.http"):
        assert client(server.url).get("/items") == {"ok": True}

    assert len(server.seen) == 2
    [record] = caplog.records
    assert (record.remote_service, record.method, record.path) == ("catalog", "GET", "/items")
    assert (record.status, record.attempt) == (503, 1)
    assert record.levelno == logging.WARNING


@pytest.mark.parametrize("status", [429, 502, 504])
def test_get_retried_on_other_transient_statuses(serve, status):
    server = serve(Reply(status, {}), Reply(200, {"n": 1}))
    assert client(server.url).get("/items") == {"n": 1}
    assert len(server.seen) == 2


def test_get_gives_up_after_retries_exhausted(serve):
    server = serve(*[Reply(503, {})] * 3)
    with pytest.raises(ServiceUnavailable) as info:
        client(server.url, retries=2).get("/items")

    assert len(server.seen) == 3
    assert (info.value.service, info.value.status, info.value.transient) == ("catalog", 503, True)


def test_post_without_idempotency_key_not_retried_on_503(serve):
    server = serve(Reply(503, {}), Reply(201, {"id": 1}))
    with pytest.raises(ServiceUnavailable) as info:
        client(server.url).post("/orders", json={"sku": "A1"})

    assert len(server.seen) == 1
    assert json.loads(server.seen[0].body) == {"sku": "A1"}
    assert info.value.status == 503


def test_post_500_not_retried(serve):
    server = serve(Reply(500, {}), Reply(201, {"id": 1}))
    with pytest.raises(ServiceUnavailable) as info:
        client(server.url).post("/orders", json={})
    assert len(server.seen) == 1
    assert (info.value.status, info.value.transient) == (500, False)


def test_post_with_idempotency_key_retried_sending_key_each_time(serve):
    server = serve(Reply(503, {}), Reply(502, {}), Reply(201, {"id": 9}))
    result = client(server.url).post("/orders", json={"sku": "A1"}, idempotency_key="k-1")

    assert result == {"id": 9}
    assert [s.headers.get("Idempotency-Key") for s in server.seen] == ["k-1", "k-1", "k-1"]
    assert [json.loads(s.body) for s in server.seen] == [{"sku": "A1"}] * 3


@pytest.mark.parametrize(
    ("status", "code"), [(404, "not_found"), (409, "conflict"), (422, "invalid_sku")]
)
def test_problem_json_raises_rejected_without_retry(serve, status, code):
    problem = {"type": "about:blank", "title": "nope", "status": status, "code": code}
    server = serve(Reply(status, problem, "application/problem+json"), Reply(200, {}))
    with pytest.raises(ServiceRejected) as info:
        client(server.url).get("/products/Z")

    assert len(server.seen) == 1
    error = info.value
    assert (error.service, error.status, error.code, error.problem) == (
        "catalog",
        status,
        code,
        problem,
    )


def test_rejection_with_non_json_body(serve):
    server = serve(Reply(400, b"<html>bad</html>", "text/html"))
    with pytest.raises(ServiceRejected) as info:
        client(server.url).post("/orders", json={})
    assert (info.value.status, info.value.code, info.value.problem) == (400, None, {})


def test_success_with_invalid_json_is_unavailable(serve):
    server = serve(Reply(200, b"not json", "text/plain"), Reply(200, {}))
    with pytest.raises(ServiceUnavailable, match="not a JSON object") as info:
        client(server.url).get("/items")
    assert (info.value.status, info.value.transient) == (200, False)
    assert len(server.seen) == 1


def test_read_timeout_is_unavailable_and_retried_for_get(serve):
    server = serve(Reply(200, {}, delay=0.3), Reply(200, {}, delay=0.3))
    started = time.monotonic()
    with pytest.raises(ServiceUnavailable) as info:
        client(server.url, read_timeout=0.05, retries=1).get("/slow")

    assert time.monotonic() - started < 0.25
    assert len(server.seen) == 2
    assert (info.value.status, info.value.transient) == (None, True)
    assert isinstance(info.value.__cause__, requests.ReadTimeout)


def test_connection_refused_is_unavailable():
    with pytest.raises(ServiceUnavailable) as info:
        client(closed_port_url(), retries=1).get("/items")
    assert (info.value.status, info.value.transient) == (None, True)
    assert isinstance(info.value.__cause__, requests.ConnectionError)


def test_breaker_opens_after_failures_then_fails_fast(serve):
    server = serve(*[Reply(503, {})] * 3, Reply(200, {"late": True}))
    api = client(server.url, retries=0, breaker_fail_max=3)
    for _ in range(3):
        with pytest.raises(ServiceUnavailable) as info:
            api.get("/items")
        assert info.value.status == 503  # the tripping call still reports the real status

    with pytest.raises(ServiceUnavailable, match="circuit open") as info:
        api.get("/items")

    assert len(server.seen) == 3
    assert (info.value.status, info.value.transient) == (None, False)
    assert api.breaker.current_state == "open"


def test_open_breaker_stops_retrying(serve):
    server = serve(*[Reply(503, {})] * 6)
    with pytest.raises(ServiceUnavailable, match="circuit open"):
        client(server.url, retries=5, breaker_fail_max=2).get("/items")
    assert len(server.seen) == 2


def test_breaker_closes_after_successful_probe(serve):
    server = serve(Reply(503, {}), Reply(200, {"ok": True}))
    api = client(server.url, retries=0, breaker_fail_max=1, breaker_reset_seconds=0.05)
    with pytest.raises(ServiceUnavailable):
        api.get("/items")
    assert api.breaker.current_state == "open"
    time.sleep(0.06)

    assert api.get("/items") == {"ok": True}
    assert api.breaker.current_state == "closed"
    assert len(server.seen) == 2


def test_rejections_do_not_open_breaker(serve):
    server = serve(*[Reply(404, {"code": "not_found"})] * 5, Reply(200, {"ok": True}))
    api = client(server.url, breaker_fail_max=2)
    for _ in range(5):
        with pytest.raises(ServiceRejected):
            api.get("/missing")

    assert api.get("/items") == {"ok": True}
    assert len(server.seen) == 6
    assert api.breaker.current_state == "closed"


def test_breaker_does_not_serialise_concurrent_calls(serve):
    server = serve(Reply(200, {}, delay=0.3), Reply(200, {}, delay=0.3))
    api = client(server.url)
    threads = [threading.Thread(target=api.get, args=("/slow",)) for _ in range(2)]
    started = time.monotonic()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert time.monotonic() - started < 0.55
    assert len(server.seen) == 2
