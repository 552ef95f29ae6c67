"""The orders app's models: the order, its lines, refunds and holds (`orders.models.orders`),
and what follows payment, shipments and returns (`orders.models.fulfilment`)."""

from orders.models.fulfilment import (
    MerchantPolicy,
    OrderReturn,
    ReturnLine,
    Shipment,
    ShipmentLine,
)
from orders.models.orders import CheckoutHold, Order, OrderLine, Refund

__all__ = [
    "CheckoutHold",
    "MerchantPolicy",
    "Order",
    "OrderLine",
    "OrderReturn",
    "Refund",
    "ReturnLine",
    "Shipment",
    "ShipmentLine",
]
