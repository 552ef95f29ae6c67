"""What follows an order's payment inside checkout."""

from __future__ import annotations

from typing import Any

from django.core.mail import send_mail

from orders.emails import shipment_delivered_email, shipment_shipped_email
from orders.models import Order, Shipment


def order_fulfilment_start(envelope: dict[str, Any]) -> None:
    """The order worker's part of `order.paid`: the confirmation sent (its lines wait,
    unfulfilled, for their merchants to ship them)."""
    order = Order.objects.get(id=envelope["data"]["order_id"])
    lines = "\n".join(f"  {line.quantity} x {line.title}" for line in order.lines.all())
    send_mail(
        subject=f"Your clipcart order {str(order.id)[:8]} is confirmed",
        message=f"Thank you! We received your payment.\n\n{lines}\n",
        from_email=None,
        recipient_list=[order.email],
    )


def order_shipped_notify(envelope: dict[str, Any]) -> None:
    """The order worker's part of `order.shipped`: the buyer emailed what is on its way,
    with the carrier, tracking number and tracking link."""
    shipment = Shipment.objects.select_related("order").get(id=envelope["data"]["shipment_id"])
    shipment_shipped_email(shipment=shipment)


def order_delivered_notify(envelope: dict[str, Any]) -> None:
    """The order worker's part of `order.delivered`: the buyer emailed that it arrived,
    and until when it can be returned."""
    shipment = Shipment.objects.select_related("order").get(id=envelope["data"]["shipment_id"])
    shipment_delivered_email(shipment=shipment)
