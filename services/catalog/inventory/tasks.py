from celery import shared_task

from inventory.services import reservations_expire as _reservations_expire


@shared_task(name="inventory.reservations_expire", time_limit=120, soft_time_limit=100)
def reservations_expire() -> int:
    return _reservations_expire()
