"""What every order event's handler starts with: the order's lock, and its times read."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from django.db import connection
from django.utils.dateparse import parse_datetime


def order_lock(order_id: uuid.UUID | str) -> None:
    """Serialize the work on one order until the transaction ends."""
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT pg_advisory_xact_lock(hashtextextended(%s, 0))", [f"attribution:{order_id}"]
        )


def event_time(value: Any, fallback: str) -> datetime:
    """An event's ISO time, else the fallback's; ValueError when neither is one."""
    parsed = parse_datetime(value) if isinstance(value, str) else None
    if parsed is None:
        parsed = parse_datetime(fallback)
    if parsed is None:
        raise ValueError(f"No valid time in {value!r} or {fallback!r}.")
    return parsed
