"""Retention: rows of tables that only grow, deleted or scrubbed in batches.

Each service's periodic retention tasks call `rows_retire` with the rows past their
setting's age and what to do to them (`rows_delete`, or an update that empties a column).
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any

from celery.exceptions import SoftTimeLimitExceeded
from django.db import transaction
from django.db.models import Model, QuerySet

logger = logging.getLogger(__name__)

Retire = Callable[[QuerySet[Any]], int]


def rows_delete(rows: QuerySet[Any]) -> int:
    """Delete `rows` (and what cascades from them); returns how many of `rows` went."""
    _, per_model = rows.delete()
    return per_model.get(rows.model._meta.label, 0)


def _retire_locked(queryset: QuerySet[Any], ids: list[Any], retire: Retire) -> int:
    # The condition is checked again under the lock; rows someone holds are left for the
    # next run instead of waited for.
    locked = list(
        queryset.filter(pk__in=ids)
        .select_for_update(skip_locked=True, of=("self",))
        .values_list("pk", flat=True)
    )
    if not locked:
        return 0
    manager = queryset.model._default_manager
    return retire(manager.filter(pk__in=locked))


def rows_retire(
    *, queryset: QuerySet[Any], retire: Retire, name: str, batch_size: int = 500
) -> int:
    """Apply `retire` to every row of `queryset`, `batch_size` rows at a time in primary-key
    order, one transaction a batch; returns how many rows were retired.

    A batch that fails is tried again row by row, and a row that fails alone is logged with
    its id and skipped (the next run tries it again): one bad row never stops the others.
    """
    model: type[Model] = queryset.model
    table = model._meta.db_table
    retired = 0
    skipped = 0
    last_id: Any = None
    while True:
        page = queryset.order_by("pk")
        if last_id is not None:
            page = page.filter(pk__gt=last_id)
        ids = list(page.values_list("pk", flat=True)[:batch_size])
        if not ids:
            break
        last_id = ids[-1]
        try:
            with transaction.atomic():
                retired += _retire_locked(queryset, ids, retire)
            continue
        except SoftTimeLimitExceeded:
            raise  # out of time: what is committed stays, the next run goes on from there
        except Exception:
            logger.warning(
                "Retention batch failed; trying its rows one by one",
                extra={"retention": name, "table": table, "rows": len(ids)},
                exc_info=True,
            )
        for row_id in ids:
            try:
                with transaction.atomic():
                    retired += _retire_locked(queryset, [row_id], retire)
            except SoftTimeLimitExceeded:
                raise
            except Exception:
                skipped += 1
                logger.exception(
                    "Retention skipped a row",
                    extra={"retention": name, "table": table, "row_id": str(row_id)},
                )
    if retired or skipped:
        logger.info(
            "Retention applied",
            extra={"retention": name, "table": table, "retired": retired, "skipped": skipped},
        )
    return retired
