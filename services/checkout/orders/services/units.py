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
    """What `units` of the line were paid: their share of its net total (list price less
    its discount), rounded down, all of it for all its units. Without a discount this is
    the unit price times the units."""
    if units >= line.quantity:
        return line.line_total_amount
    return line.line_total_amount * units // line.quantity


def units_refunded(line: OrderLine) -> int:
    """How many of the line's units its refunded amount pays back: the most units whose
    `unit_share` it covers. A discounted line's shares round down at each refund, so it
    is allowed one minor unit per unit of rounding; without a discount this is the
    refunded amount over the unit price."""
    if line.line_total_amount == 0:  # a free line: nothing is ever paid back
        return 0
    slack = line.quantity - 1 if line.discount_amount else 0
    covered = ((line.refunded_amount + slack + 1) * line.quantity - 1) // line.line_total_amount
    return min(covered, line.quantity)
