from celery import shared_task

from orders.services import payments_reconcile as _payments_reconcile
from orders.services import refunds_reconcile as _refunds_reconcile
from payments.retention import webhook_payloads_scrub as _webhook_payloads_scrub
from payments.services import webhook_event_process as _webhook_event_process
from payments.services import webhook_events_sweep as _webhook_events_sweep


@shared_task(
    name="payments.webhook_event_process",
    # Safe to run twice: the event's row is locked and applied once.
    acks_late=True,
    reject_on_worker_lost=True,
    autoretry_for=(Exception,),
    retry_backoff=True,
    retry_backoff_max=600,
    max_retries=12,
    time_limit=120,
)
def webhook_event_process(event_id: str) -> str:
    return _webhook_event_process(event_id=event_id)


@shared_task(name="payments.payments_reconcile", time_limit=600, soft_time_limit=570)
def payments_reconcile() -> int:
    # Refunds left pending by a stopped process are finished on the same schedule.
    return _payments_reconcile() + _refunds_reconcile()


@shared_task(name="payments.webhook_events_sweep", time_limit=600, soft_time_limit=570)
def webhook_events_sweep() -> int:
    return _webhook_events_sweep()


@shared_task(name="payments.webhook_payloads_scrub", time_limit=600, soft_time_limit=570)
def webhook_payloads_scrub() -> int:
    return _webhook_payloads_scrub()
