"""Periodic tasks handle their rows one by one: `rows_each` runs the handler on each row,
logs and backs off a row that fails (it is retried on a later run, after a wait that
doubles with each failure), and goes on with the others."""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable
from datetime import timedelta
from typing import TypeVar

from django.conf import settings
from django.db.models import F
from django.utils import timezone

from clipcart_shared.sweeps.models import SweepBackoff

logger = logging.getLogger(__name__)

Row = TypeVar("Row")
Result = TypeVar("Result")


def rows_backed_off(*, task: str) -> list[str]:
    """The keys of `task` whose last failure is too recent to try again; a sweep leaves
    them out of its batch, so failing rows never fill it."""
    return list(
        SweepBackoff.objects.filter(task=task, retry_at__gt=timezone.now()).values_list(
            "key", flat=True
        )
    )


def rows_each(
    *,
    task: str,
    rows: Iterable[Row],
    handle: Callable[[Row], Result],
    key: Callable[[Row], object] = str,
) -> list[Result]:
    """`handle(row)` for each row; the results of those that did not raise. A row that
    raises is logged with its key and backed off; a row that succeeds clears its
    backoff. Nothing a row raises reaches the caller."""
    results: list[Result] = []
    for row in rows:
        row_key = str(key(row))
        try:
            results.append(handle(row))
        except Exception as error:
            _backoff(task=task, key=row_key, error=error)
        else:
            SweepBackoff.objects.filter(task=task, key=row_key).delete()
    return results


def _backoff(*, task: str, key: str, error: Exception) -> None:
    base = settings.SWEEP_BACKOFF_SECONDS
    cap = settings.SWEEP_BACKOFF_MAX_SECONDS
    backoff, created = SweepBackoff.objects.get_or_create(
        task=task,
        key=key,
        defaults={"retry_at": timezone.now() + timedelta(seconds=base), "last_error": repr(error)},
    )
    if not created:
        wait = min(base * 2**backoff.failures, cap)
        SweepBackoff.objects.filter(id=backoff.id).update(
            failures=F("failures") + 1,
            retry_at=timezone.now() + timedelta(seconds=wait),
            last_error=repr(error)[:2000],
        )
    logger.error(
        "A periodic task failed on one row; the others go on",
        exc_info=error,
        extra={"task": task, "key": key, "failures": 1 if created else backoff.failures + 1},
    )
