"""How the order admin shows people and money."""

from __future__ import annotations

import uuid

from django.http import HttpRequest

from clipcart_shared.admin import request_merchant_ids
from clipcart_shared.money import Money


def is_platform_staff(request: HttpRequest) -> bool:
    return request_merchant_ids(request) is None


def money(amount: int | None, currency: str) -> str:
    return Money(amount or 0, currency).format()


def short_id(order_id: uuid.UUID) -> str:
    """The id's first eight digits: how the buyer's confirmation email names the order."""
    return str(order_id)[:8]
