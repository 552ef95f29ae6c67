"""A webhook endpoint for tests: stands in for a service's endpoint at the Stripe emulator
and keeps what each delivery carried (used by video's payout tests and the emulator's
Connect tests)."""

from __future__ import annotations

import queue
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any


class WebhookReceiver:
    """A tiny webhook endpoint on 127.0.0.1 (`url`): every POST's (raw body,
    Stripe-Signature), answered 200, kept in order."""

    def __init__(self) -> None:
        self.received: queue.Queue[tuple[bytes, str]] = queue.Queue()
        received = self.received

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers["Content-Length"]))
                received.put((body, self.headers.get("Stripe-Signature", "")))
                self.send_response(200)
                self.end_headers()

            def log_message(self, *args: Any) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/hook"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def delivery(self, timeout: float = 6.0) -> tuple[bytes, str]:
        """The next delivery's (raw body, Stripe-Signature); queue.Empty after `timeout`."""
        return self.received.get(timeout=timeout)

    def drain(self) -> None:
        """Forget what was delivered so far (another test's events)."""
        while not self.received.empty():
            self.received.get()

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()
