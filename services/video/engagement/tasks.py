from celery import shared_task

from engagement.services import stats_roll_up as _stats_roll_up


@shared_task(name="engagement.stats_roll_up", time_limit=300, soft_time_limit=270)
def stats_roll_up() -> int:
    return _stats_roll_up()
