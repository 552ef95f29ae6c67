from celery import shared_task

from orders.services import orders_expire as _orders_expire


@shared_task(name="orders.orders_expire", time_limit=600, soft_time_limit=570)
def orders_expire() -> int:
    return _orders_expire()
