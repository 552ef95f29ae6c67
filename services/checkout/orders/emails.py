"""What the buyer is told by email about their order."""

from __future__ import annotations

from django.core.mail import send_mail

from clipcart_shared.money import Money
from orders.models import Order, OrderReturn, Shipment


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


def _send(order: Order, subject: str, message: str) -> None:
    send_mail(
        subject=f"{subject} (clipcart order {str(order.id)[:8]})",
        message=message,
        from_email=None,
        recipient_list=[order.email],
    )


def _shipment_units(shipment: Shipment) -> str:
    return "\n".join(
        f"  {shipment_line.quantity} x {shipment_line.line.title}"
        for shipment_line in shipment.lines.select_related("line")
    )


def shipment_shipped_email(*, shipment: Shipment) -> None:
    """A parcel of the order is on its way: what is in it, and how to follow it."""
    order = shipment.order
    tracking = f"\nFollow it here: {shipment.tracking_url}\n" if shipment.tracking_url else ""
    send_mail(
        subject=f"Your clipcart order {str(order.id)[:8]} has shipped",
        message=(
            f"Good news: part of your order is on its way.\n\n{_shipment_units(shipment)}\n\n"
            f"Carrier: {shipment.carrier}\nTracking number: {shipment.tracking_number}\n"
            f"{tracking}"
        ),
        from_email=None,
        recipient_list=[order.email],
    )


def _units(lines: list[tuple[str, int]]) -> str:
    return "\n".join(f"  {units} x {title}" for title, units in lines)


def _return_lines(order_return: OrderReturn) -> str:
    return _units([(line.line.title, line.quantity) for line in order_return.lines.all()])


def order_lines_cancelled_email(*, order: Order, units: dict[str, int]) -> None:
    """The buyer cancelled these units before they shipped: refunded."""
    lines = order.lines.filter(id__in=list(units)).order_by("title", "id")
    _send(
        order,
        "Your cancellation is confirmed",
        "You cancelled:\n"
        + _units([(line.title, units[str(line.id)]) for line in lines])
        + "\n\nWe are refunding what you paid for them to your card; it reaches you within "
        "a few days.\n",
    )


def return_requested_email(*, order_return: OrderReturn) -> None:
    _send(
        order_return.order,
        "We received your return request",
        "You asked to return:\n"
        + _return_lines(order_return)
        + "\n\nThe shop will look at it shortly; we will email you its answer with the "
        "return instructions.\n",
    )


def return_approved_email(*, order_return: OrderReturn) -> None:
    instructions = order_return.instructions or "The shop will contact you with the address."
    _send(
        order_return.order,
        "Your return is approved",
        "The shop approved your return of:\n"
        + _return_lines(order_return)
        + f"\n\nHow to send it back:\n{instructions}\n\nYou are refunded once the shop "
        "receives the parcel.\n",
    )


def return_rejected_email(*, order_return: OrderReturn) -> None:
    _send(
        order_return.order,
        "Your return was not accepted",
        "The shop did not accept your return of:\n"
        + _return_lines(order_return)
        + f"\n\nTheir reason: {order_return.rejection_reason}\n",
    )


def return_refunded_email(*, order_return: OrderReturn) -> None:
    refund = order_return.refund
    amount = Money(refund.amount if refund else 0, order_return.order.currency).format()
    _send(
        order_return.order,
        "Your return is refunded",
        "The shop received your return of:\n"
        + _return_lines(order_return)
        + f"\n\nWe refunded {amount} to your card; it reaches you within a few days.\n",
    )


RETURN_EMAILS = {
    "return_requested": return_requested_email,
    "return_approved": return_approved_email,
    "return_rejected": return_rejected_email,
    "return_refunded": return_refunded_email,
}


def shipment_delivered_email(*, shipment: Shipment) -> None:
    """A parcel of the order arrived: what was in it, and until when it can be returned."""
    order = shipment.order
    until = shipment.returns_close_at.date().isoformat() if shipment.returns_close_at else ""
    send_mail(
        subject=f"Your clipcart order {str(order.id)[:8]} was delivered",
        message=(
            f"Your parcel ({shipment.carrier} {shipment.tracking_number}) was delivered.\n\n"
            f"{_shipment_units(shipment)}\n\n"
            + (f"You can ask to return these items until {until}.\n" if until else "")
        ),
        from_email=None,
        recipient_list=[order.email],
    )
