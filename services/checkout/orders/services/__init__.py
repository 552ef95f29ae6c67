"""The life of an order, one module per kind of change: `checkout` (create), `payment_events`
(paid, declined, cancelled, disputed), `refunds`, `expiry` (cancel, expire), `reconcile`
(the safety nets asking Stripe), `stripe_events` (Stripe's logged events applied), and
`fulfilment`; `status` holds what they share. Every status change commits with its outbox
event. The names below are the services other modules call."""

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
    "order_cancel",
    "order_charge_refunded",
    "order_dispute_opened",
    "order_fulfilment_start",
    "order_payment_cancelled",
    "order_payment_failed",
    "order_payment_succeeded",
    "order_refund",
    "orders_expire",
    "payments_reconcile",
    "refunds_reconcile",
    "stripe_event_apply",
    "stripe_events_sweep",
    "stripe_logged_event_apply",
    "stripe_webhook_accept",
]
