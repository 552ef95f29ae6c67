"""Tests only: attribution's state as other services' tests set it up (`manage.py
attribution_testhook <hook> '<JSON>'`; clipcart_shared.testhook). Beside `core`'s
`testhook` because `core` may not import attribution. Refused under production settings."""

from __future__ import annotations

from typing import Any

from attribution.models import ProductCommissionRate
from clipcart_shared.outbox.services import event_consume
from clipcart_shared.testhook import HookCommand


def product_commission_rate_set(*, product_id: str, merchant_id: str, rate_bps: int) -> dict:
    """The merchant's commission rate on `product_id`, for every creator."""
    ProductCommissionRate.objects.update_or_create(
        product_id=product_id, defaults={"merchant_id": merchant_id, "rate_bps": rate_bps}
    )
    return {"product_id": product_id, "rate_bps": rate_bps}


def checkout_events_consume(*, envelopes: list[dict[str, Any]]) -> dict:
    """Checkout's events (`order.paid`, `order.refunded`, …) as video's worker applies
    them, each once; returns how many were new."""
    return {"applied": sum(event_consume(envelope=envelope) for envelope in envelopes)}


class Command(HookCommand):
    hooks = {
        "product_commission_rate_set": product_commission_rate_set,
        "checkout_events_consume": checkout_events_consume,
    }
