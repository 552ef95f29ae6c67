"""Every call the video service makes to checkout, in one place."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime, timedelta
from typing import Any

from clipcart_shared.clients import service_client
from clipcart_shared.http import ServiceClient, ServiceRejected, ServiceUnavailable

# Checkout serves at most this long a window a request (its order-events API).
ORDER_EVENTS_MAX_WINDOW = timedelta(days=7)
ORDER_EVENTS_PAGE = 100


class CheckoutUnavailable(Exception):
    """Checkout could not answer (down, timing out, breaker open) or refused the call."""


def checkout_client() -> ServiceClient:
    return service_client("checkout")


def order_events(*, type: str, since: datetime, until: datetime) -> Iterator[dict[str, Any]]:
    """The `order.paid` or `order.refunded` events (`{type, subject, data}`) checkout
    published for [since, until), oldest first, page by page and in windows of at most 7
    days. Raises `CheckoutUnavailable` when checkout cannot answer a page (the pages
    before it are already yielded)."""
    start = since
    while start < until:
        end = min(start + ORDER_EVENTS_MAX_WINDOW, until)
        path: str | None = "/internal/v1/order-events/"
        params: dict[str, Any] | None = {
            "type": type,
            "since": start.isoformat(),
            "until": end.isoformat(),
            "limit": ORDER_EVENTS_PAGE,
        }
        while path:
            try:
                page = checkout_client().get(path, params=params)
            except (ServiceRejected, ServiceUnavailable) as error:
                raise CheckoutUnavailable(str(error)) from error
            yield from page["results"]
            next_url = page.get("next")
            # The next page's URL carries every parameter (and the cursor).
            path, params = (
                (next_url[next_url.index("/internal/") :], None) if next_url else (None, None)
            )
        start = end
