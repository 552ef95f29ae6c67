"""Units of an order's lines, as a buyer names them (`{line_id, quantity}`) to cancel or
return: checked against the order, and their share of the money paid."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from typing import TypedDict

from clipcart_shared.errors import ApplicationError, ErrorCode
from orders.models import OrderLine


class LineUnits(TypedDict):
    line_id: uuid.UUID
    quantity: int


def lines_of_order(
    order_lines: Sequence[OrderLine], asked: Sequence[LineUnits]
) -> list[tuple[OrderLine, int]]:
    """Each asked line of this order with its units, merged per line; a line of any
    other order is 404, as an order of another user is."""
    by_id = {line.id: line for line in order_lines}
    units: dict[uuid.UUID, int] = {}
    for item in asked:
        if item["line_id"] not in by_id:
            raise ApplicationError(ErrorCode.NOT_FOUND, "The order has no such line.", status=404)
        units[item["line_id"]] = units.get(item["line_id"], 0) + item["quantity"]
    return [(by_id[line_id], count) for line_id, count in units.items()]


def unit_share(line: OrderLine, units: int) -> int:
    """What `units` of the line were paid (its total is its unit price times its units)."""
    return line.unit_price_amount * units
