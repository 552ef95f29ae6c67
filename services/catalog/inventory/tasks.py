from celery import shared_task

from inventory.retention import reservations_prune as _reservations_prune
from inventory.services import reservations_expire as _reservations_expire


@shared_task(name="inventory.reservations_expire", time_limit=120, soft_time_limit=100)
def reservations_expire() -> int:
    return _reservations_expire()


@shared_task(name="inventory.reservations_prune", time_limit=600, soft_time_limit=570)
def reservations_prune() -> int:
    return _reservations_prune()
