"""Writes of stock: reservations for checkout (`reservations`), merchants' adjustments and
restocks (`adjustments`), both on the counters and movement log of `counters`."""

from inventory.services.adjustments import (
    stock_change_check,
    stock_count,
    stock_receive,
    stock_restock,
    stock_write_off,
)
from inventory.services.counters import stock_movements_record, stock_shift, variants_lock
from inventory.services.reservations import (
    reservation_commit,
    reservation_create,
    reservation_release,
    reservations_expire,
)

__all__ = [
    "reservation_commit",
    "reservation_create",
    "reservation_release",
    "reservations_expire",
    "stock_change_check",
    "stock_count",
    "stock_movements_record",
    "stock_receive",
    "stock_restock",
    "stock_shift",
    "stock_write_off",
    "variants_lock",
]
