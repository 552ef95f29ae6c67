"""What follows an order's payment inside checkout."""

from __future__ import annotations

from typing import Any

from orders.models import Order


def order_fulfilment_start(envelope: dict[str, Any]) -> None:
    """The order worker's part of `order.paid`: fulfilment pending, confirmation sent."""
    from django.core.mail import send_mail

    order = Order.objects.get(id=envelope["data"]["order_id"])
    Order.objects.filter(id=order.id, fulfilment_status=Order.Fulfilment.NOT_STARTED).update(
        fulfilment_status=Order.Fulfilment.PENDING
    )
    lines = "\n".join(f"  {line.quantity} x {line.title}" for line in order.lines.all())
    send_mail(
        subject=f"Your clipcart order {str(order.id)[:8]} is confirmed",
        message=f"Thank you! We received your payment.\n\n{lines}\n",
        from_email=None,
        recipient_list=[order.email],
    )
