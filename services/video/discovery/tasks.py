from celery import shared_task

from discovery.services import for_you_rankings_refresh as _for_you_rankings_refresh
from discovery.services import trending_recompute as _trending_recompute


@shared_task(name="discovery.trending_recompute", time_limit=600, soft_time_limit=540)
def trending_recompute() -> str:
    return str(_trending_recompute().id)


@shared_task(name="discovery.for_you_rankings_refresh", time_limit=120, soft_time_limit=100)
def for_you_rankings_refresh() -> int:
    return _for_you_rankings_refresh()
