"""The real checkout service for the video tests (its order-events API over HTTP), with
orders paid and refunded by its own code in its own database, as if through Stripe; and
its order-events API faked at the HTTP boundary (`OrderEventsServer`), for the events
whose rows only checkout's own flows make (deliveries, returns)."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlsplit

from clipcart_tools.testing.services import RunningService, running_service
from tests.catalog_server import SERVICE_KEY


@dataclass
class CheckoutServer:
    service: RunningService

    @property
    def url(self) -> str:
        return self.service.url

    def _run(self, hook: str, **arguments: Any) -> dict[str, Any]:
        """One of checkout's test hooks (`manage.py testhook`, owned by checkout)."""
        out = self.service.manage("testhook", hook, json.dumps(arguments))
        return dict(json.loads(out.strip().splitlines()[-1]))

    def pay(self, *, user_id: str, lines: list[dict[str, Any]]) -> dict[str, Any]:
        """A paid order in checkout; returns its `order.paid` (type, subject, data)."""
        return self._run("order_paid_create", user_id=user_id, lines=lines)

    def refund(self, *, order_id: str, amount: int) -> dict[str, Any]:
        """Refund part of a paid order; returns its `order.refunded` (type, subject, data)."""
        return self._run(
            "order_refund_record", order_id=order_id, amount=amount, created_by="video-tests"
        )


@contextmanager
def checkout_server() -> Iterator[CheckoutServer]:
    with running_service(
        "checkout",
        database="clipcart_checkout_for_video_tests",
        environment={"SERVICE_AUTH_KEYS": SERVICE_KEY},
    ) as service:
        yield CheckoutServer(service)


class OrderEventsServer:
    """Checkout's order-events API at the HTTP boundary, serving events given by type
    (payloads as checkout's `event_samples` built them, so its own builders); a type it
    was given none for is answered 400 naming `type`, as a checkout that does not list
    it (or naming `refused_field`). Records the queries it was asked."""

    def __init__(
        self, events: dict[str, list[dict[str, Any]]], refused_field: str = "type"
    ) -> None:
        self.events = events
        self.refused_field = refused_field
        self.asked: list[dict[str, str]] = []
        server = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                url = urlsplit(self.path)
                query = {key: values[0] for key, values in parse_qs(url.query).items()}
                server.asked.append(query)
                if url.path != "/internal/v1/order-events/":
                    self._answer(404, {"code": "not_found"})
                elif query.get("type") not in server.events:
                    self._answer(
                        400,
                        {
                            "code": "validation_error",
                            "errors": [{"field": server.refused_field, "code": "invalid"}],
                        },
                    )
                else:
                    events = server.events[query["type"]]
                    self._answer(200, {"next": None, "previous": None, "results": events})

            def _answer(self, status: int, body: dict[str, Any]) -> None:
                payload = json.dumps(body).encode()
                self.send_response(status)
                content_type = "application/json" if status == 200 else "application/problem+json"
                self.send_header("Content-Type", content_type)
                self.send_header("Content-Length", str(len(payload)))
                self.end_headers()
                self.wfile.write(payload)

            def log_message(self, format: str, *args: Any) -> None:
                pass

        self._httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._thread = threading.Thread(
            target=self._httpd.serve_forever, kwargs={"poll_interval": 0.01}, daemon=True
        )

    @property
    def url(self) -> str:
        host, port = self._httpd.server_address[:2]
        return f"http://{host}:{port}"

    def __enter__(self) -> OrderEventsServer:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._httpd.shutdown()
        self._httpd.server_close()
