"""What the buyer is told by email about their order."""

from __future__ import annotations

from django.core.mail import send_mail

from clipcart_shared.money import Money
from orders.models import Order


def order_unwanted_payment_email(*, order: Order, amount: int) -> None:
    """The order was cancelled (its stock was sold before the payment arrived, or it was
    cancelled as the payment went through): the payment is being refunded."""
    why = (
        "the last units were sold before your payment arrived"
        if order.cancellation_reason == "stock gone before payment"
        else "it was cancelled as your payment went through"
    )
    send_mail(
        subject=f"Your clipcart order {str(order.id)[:8]} was cancelled and refunded",
        message=(
            f"We are sorry: your order could not be completed because {why}.\n\n"
            f"We are refunding {Money(amount, order.currency).format()} to your card; it reaches "
            "you within a few days. Nothing else needs doing.\n"
        ),
        from_email=None,
        recipient_list=[order.email],
    )
