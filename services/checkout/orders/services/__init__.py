"""The life of an order, one module per kind of change: `checkout` (create),
`payment_events` (paid, declined, cancelled, disputed), `refunds`, `cancel` (a buyer's
paid units), `shipping` and `tracking` (shipments, delivery, the carrier's webhook),
`returns`, `restock` (refunded units back to stock), `expiry` (cancel, expire),
`reconcile` (the safety nets asking Stripe), `stripe_events` (Stripe's logged events
applied), and `fulfilment`; `status` holds what they share. Every status change commits
with its outbox event. The names below are the services other modules call."""

from orders.services.cancel import order_buyer_cancel
from orders.services.checkout import Checkout, CheckoutLine, checkout_create
from orders.services.expiry import order_cancel, orders_expire
from orders.services.fulfilment import order_fulfilment_start
from orders.services.payment_events import (
    order_dispute_opened,
    order_payment_cancelled,
    order_payment_failed,
    order_payment_succeeded,
)
from orders.services.reconcile import payments_reconcile, refunds_reconcile
from orders.services.refunds import order_charge_refunded, order_refund
from orders.services.restock import refund_restock
from orders.services.returns import (
    order_return_approve,
    order_return_receive,
    order_return_reject,
    order_return_request,
)
from orders.services.shipping import (
    shipment_create,
    shipment_deliver,
    shipments_auto_deliver,
    tracking_url_check,
)
from orders.services.stripe_events import (
    stripe_event_apply,
    stripe_events_sweep,
    stripe_logged_event_apply,
    stripe_webhook_accept,
)

__all__ = [
    "Checkout",
    "CheckoutLine",
    "checkout_create",
    "order_buyer_cancel",
    "order_cancel",
    "order_charge_refunded",
    "order_dispute_opened",
    "order_fulfilment_start",
    "order_payment_cancelled",
    "order_payment_failed",
    "order_payment_succeeded",
    "order_refund",
    "order_return_approve",
    "order_return_receive",
    "order_return_reject",
    "order_return_request",
    "orders_expire",
    "payments_reconcile",
    "refund_restock",
    "refunds_reconcile",
    "shipment_create",
    "shipment_deliver",
    "shipments_auto_deliver",
    "stripe_event_apply",
    "stripe_events_sweep",
    "stripe_logged_event_apply",
    "stripe_webhook_accept",
    "tracking_url_check",
]
