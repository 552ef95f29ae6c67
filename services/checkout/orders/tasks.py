from celery import shared_task

from orders.limits import checkout_holds_prune as _checkout_holds_prune
from orders.services import orders_expire as _orders_expire


@shared_task(name="orders.orders_expire", time_limit=600, soft_time_limit=570)
def orders_expire() -> int:
    return _orders_expire()


@shared_task(name="orders.checkout_holds_prune", time_limit=300, soft_time_limit=270)
def checkout_holds_prune() -> int:
    return _checkout_holds_prune()
