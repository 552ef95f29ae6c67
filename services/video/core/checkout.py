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


class OrderEventTypeUnknown(CheckoutUnavailable):
    """Checkout answered 400 for an event type: one it does not list (yet). Where that
    is not expected (`order.paid`), it is checkout refusing the call as any other."""


def checkout_client() -> ServiceClient:
    return service_client("checkout")


def order_events(*, type: str, since: datetime, until: datetime) -> Iterator[dict[str, Any]]:
    """The events of one type (`order.paid`, `order.refunded`, `order.delivered`,
    `order.return_requested`, `order.return_closed`: `{type, subject, data}`) checkout
    published for [since, until), oldest first, page by page and in windows of at most 7
    days. Raises `CheckoutUnavailable` when checkout cannot answer a page (the pages
    before it are already yielded), `OrderEventTypeUnknown` when it answers 400 naming
    the type."""
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
            except ServiceRejected as error:
                if error.status == 400 and "type" in _fields(error.problem):
                    raise OrderEventTypeUnknown(type) from error
                raise CheckoutUnavailable(str(error)) from error
            except ServiceUnavailable as error:
                raise CheckoutUnavailable(str(error)) from error
            yield from page["results"]
            next_url = page.get("next")
            # The next page's URL carries every parameter (and the cursor).
            path, params = (
                (next_url[next_url.index("/internal/") :], None) if next_url else (None, None)
            )
        start = end


def _fields(problem: dict[str, Any]) -> set[Any]:
    """The fields a problem+json answer names (`errors[].field`)."""
    errors = problem.get("errors")
    if not isinstance(errors, list):
        return set()
    return {error.get("field") for error in errors if isinstance(error, dict)}


def creator_payout_record(
    *,
    payout_id: str,
    creator_id: str,
    currency: str,
    amount: int,
    stripe_transfer_id: str,
    merchants: list[dict[str, Any]],
) -> None:
    """Have checkout's ledger post a creator's payout (idempotent there by `payout_id`,
    so retried safely). Raises `CheckoutUnavailable` when checkout cannot or will not."""
    try:
        checkout_client().post(
            "/internal/v1/creator-payouts/",
            json={
                "payout_id": payout_id,
                "creator_id": creator_id,
                "currency": currency,
                "amount": amount,
                "stripe_transfer_id": stripe_transfer_id,
                "merchants": merchants,
            },
            idempotency_key=f"creator-payout-{payout_id}",
        )
    except (ServiceRejected, ServiceUnavailable) as error:
        raise CheckoutUnavailable(str(error)) from error
