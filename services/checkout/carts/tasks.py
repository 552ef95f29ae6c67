from celery import shared_task

from carts.services import carts_prune as _carts_prune


@shared_task(name="carts.carts_prune", time_limit=600, soft_time_limit=570)
def carts_prune() -> int:
    return _carts_prune()
