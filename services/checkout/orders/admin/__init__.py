"""Orders for platform staff and for merchants' staff.

A merchant's staff see the orders that hold lines they sold, and on them only those
lines and their share of the money: the lines' totals and what was refunded on them;
never other merchants' lines, the buyer's total, or shipping (the order keeps one
shipping amount for all its merchants). Other orders are 404 to them.

Nobody adds, changes or deletes an order here: checkout makes them and the services move
them on. Refunds are made on the order's refund page through
`orders.services.order_refund` (the amount held by a pending refund under the order's
lock, then Stripe, then the lines, the status and `order.refunded`), by holders of
`orders.add_refund`: merchant staff on their own lines, platform staff also on the whole
order, optionally putting units back on the shelf ("restock these units").

Returns are decided on the return's page (`return_admin`), by the shop that sold the
lines; shops set their return window and instructions as their merchant policy.
"""

from orders.admin.order_admin import OrderAdmin
from orders.admin.return_admin import OrderReturnAdmin
from orders.admin.shipping import MerchantPolicyAdmin, ShipmentAdmin

__all__ = ["MerchantPolicyAdmin", "OrderAdmin", "OrderReturnAdmin", "ShipmentAdmin"]
