"""Writing attribution: paid lines and their credits (`credits`), what checkout's order
events do (`orders`: `order.paid`, `order.refunded`), and rebuilds (`rebuilds`:
recompute, reconcile).

Everything about one order runs under that order's transaction-level advisory lock, so
an `order.paid` and an `order.refunded` for the same order never interleave, and the
unique constraints (`SaleLine` by line id, `Credit` per line, model, position and
refund) make a duplicate delivery write nothing even without the lock.
"""

from attribution.services.credits import credits_insert, lines_attribute
from attribution.services.orders import (
    order_lock,
    order_paid_apply,
    order_refunded_apply,
    refund_apply,
    refunds_held_apply,
)
from attribution.services.rebuilds import attribution_recompute, attribution_reconcile

__all__ = [
    "attribution_recompute",
    "attribution_reconcile",
    "credits_insert",
    "lines_attribute",
    "order_lock",
    "order_paid_apply",
    "order_refunded_apply",
    "refund_apply",
    "refunds_held_apply",
]
