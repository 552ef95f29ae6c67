"""Writing attribution: paid lines and their credits (`credits`), what checkout's order
events do (`orders`: `order.paid`, `order.refunded`; `settlement`: `order.delivered`,
`order.return_requested`, `order.return_closed`), and rebuilds (`rebuilds`: recompute,
reconcile).

Everything about one order runs under that order's transaction-level advisory lock
(`locks.order_lock`), so two events of the same order never interleave, and the unique
constraints (`SaleLine` by line id, `Credit` per line, model, position and refund, a
delivery by shipment, a return by its id) make a duplicate delivery write nothing even
without the lock.
"""

from attribution.services.credits import credits_insert, lines_attribute
from attribution.services.locks import order_lock
from attribution.services.orders import (
    order_paid_apply,
    order_refunded_apply,
    refund_apply,
    refunds_held_apply,
)
from attribution.services.rebuilds import attribution_recompute, attribution_reconcile
from attribution.services.settlement import (
    order_delivered_apply,
    order_return_closed_apply,
    order_return_requested_apply,
    order_settlement_refresh,
)

__all__ = [
    "attribution_recompute",
    "attribution_reconcile",
    "credits_insert",
    "lines_attribute",
    "order_delivered_apply",
    "order_lock",
    "order_paid_apply",
    "order_refunded_apply",
    "order_return_closed_apply",
    "order_return_requested_apply",
    "order_settlement_refresh",
    "refund_apply",
    "refunds_held_apply",
]
