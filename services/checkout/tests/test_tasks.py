"""Every task the scheduler sends is one the worker has (a renamed task renames its
schedule entry too)."""

from __future__ import annotations

from django.conf import settings

from config.celery import app


def test_every_scheduled_task_is_registered_by_the_worker():
    app.loader.import_default_modules()  # what a worker does at start: autodiscovery

    scheduled = {entry["task"] for entry in settings.CELERY_BEAT_SCHEDULE.values()}

    assert scheduled - set(app.tasks) == set()
    assert {"orders.stripe_event_apply", "orders.stripe_events_sweep"} <= set(app.tasks)
