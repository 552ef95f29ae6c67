from celery import shared_task

from clipcart_shared.idempotency.services import idempotency_prune


@shared_task(name="clipcart.idempotency.prune", time_limit=300)
def prune() -> int:
    return idempotency_prune()
