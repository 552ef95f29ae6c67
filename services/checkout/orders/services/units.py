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


def unit_share(line: OrderLine, units: int, *, before: int = 0) -> int:
    """What `units` more of the line were paid, after `before` of its units were paid back
    already: their share of its net total (list price less its discount), the shares
    rounded so that they add up to the whole total (the last unit takes the remainder).
    Without a discount this is the unit price times the units."""
    total, quantity = line.line_total_amount, max(line.quantity, 1)
    start = min(before, quantity)
    end = min(start + units, quantity)
    return total * end // quantity - total * start // quantity


def units_refunded(line: OrderLine) -> int:
    """How many of the line's units its refunded amount pays back: the most units whose
    `unit_share` it covers. Refunds reserved side by side each take their share as if
    first (rounded down), so a discounted line is allowed one minor unit per unit of
    rounding; without a discount this is the refunded amount over the unit price."""
    if line.line_total_amount == 0:  # a free line: nothing is ever paid back
        return 0
    slack = line.quantity - 1 if line.discount_amount else 0
    covered = ((line.refunded_amount + slack + 1) * line.quantity - 1) // line.line_total_amount
    return min(covered, line.quantity)
