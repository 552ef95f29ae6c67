from celery import shared_task

from orders.limits import checkout_holds_prune as _checkout_holds_prune
from orders.services import orders_expire as _orders_expire
from orders.services import payments_reconcile as _payments_reconcile
from orders.services import refunds_reconcile as _refunds_reconcile
from orders.services import shipments_auto_deliver as _shipments_auto_deliver
from orders.services import stripe_events_sweep as _stripe_events_sweep
from orders.services import stripe_logged_event_apply as _stripe_logged_event_apply
from orders.services.transfers import merchant_transfers_sweep as _merchant_transfers_sweep
from payments.creator_audit import creator_balances_audit
from payments.ledger import ledger_audit as _ledger_audit


@shared_task(name="orders.orders_expire", time_limit=600, soft_time_limit=570)
def orders_expire() -> int:
    return _orders_expire()


@shared_task(name="orders.checkout_holds_prune", time_limit=300, soft_time_limit=270)
def checkout_holds_prune() -> int:
    return _checkout_holds_prune()


@shared_task(
    name="orders.stripe_event_apply",
    # Safe to run twice: the event is claimed, applied through idempotent services, and
    # settled once.
    acks_late=True,
    reject_on_worker_lost=True,
    autoretry_for=(Exception,),
    retry_backoff=True,
    retry_backoff_max=600,
    max_retries=12,
    time_limit=120,
)
def stripe_event_apply(event_id: str) -> str:
    return _stripe_logged_event_apply(event_id=event_id)


@shared_task(name="orders.payments_reconcile", time_limit=600, soft_time_limit=570)
def payments_reconcile() -> int:
    # Refunds left pending by a stopped process are finished on the same schedule.
    return _payments_reconcile() + _refunds_reconcile()


@shared_task(name="orders.stripe_events_sweep", time_limit=600, soft_time_limit=570)
def stripe_events_sweep() -> int:
    return _stripe_events_sweep()


@shared_task(
    name="orders.buyer_email",
    autoretry_for=(Exception,),
    retry_backoff=True,
    max_retries=6,
    time_limit=120,
    soft_time_limit=90,
)
def buyer_email(kind: str, subject_id: str, units: dict[str, int] | None = None) -> None:
    """One email to the buyer about a cancel or a return step, sent after the commit."""
    from orders.emails import RETURN_EMAILS, order_lines_cancelled_email
    from orders.models import Order, OrderReturn

    if kind == "lines_cancelled":
        order_lines_cancelled_email(order=Order.objects.get(id=subject_id), units=units or {})
        return
    order_return = (
        OrderReturn.objects.select_related("order", "refund")
        .prefetch_related("lines__line")
        .get(id=subject_id)
    )
    RETURN_EMAILS[kind](order_return=order_return)


@shared_task(name="orders.shipments_auto_deliver", time_limit=600, soft_time_limit=570)
def shipments_auto_deliver() -> int:
    return _shipments_auto_deliver()


@shared_task(name="orders.merchant_transfers_sweep", time_limit=900, soft_time_limit=870)
def merchant_transfers_sweep() -> dict[str, int]:
    """Settle merchants' parts, send their transfers and reversals (ADR 30)."""
    return _merchant_transfers_sweep()


@shared_task(name="orders.ledger_audit", time_limit=300, soft_time_limit=270)
def ledger_audit() -> bool:
    """Sum the ledger, and compare the commission it owes creators with video's creator
    balances (ADR 38); an imbalance or a difference is logged as an error (and shown on
    the admin home)."""
    balanced = _ledger_audit().is_balanced
    return creator_balances_audit().is_matching and balanced
