"""The real checkout service for the video tests (its order-events API over HTTP), with
orders paid and refunded by its own code in its own database, as if through Stripe."""

from __future__ import annotations

import json
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

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
