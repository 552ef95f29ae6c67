from __future__ import annotations

import logging
from datetime import timedelta

from celery import shared_task
from django.conf import settings
from django.utils import timezone

from attribution.services import attribution_reconcile
from core.checkout import CheckoutUnavailable

logger = logging.getLogger(__name__)


@shared_task(name="attribution.reconcile", time_limit=600, soft_time_limit=540)
def reconcile() -> dict[str, int] | None:
    """The lost `order.paid` / `order.refunded` / `order.delivered` /
    `order.return_requested` / `order.return_closed` of the last ATTRIBUTION_RECONCILE_HOURS,
    applied (beat, every ATTRIBUTION_RECONCILE_SECONDS, on the attribution worker). Events
    younger than ATTRIBUTION_RECONCILE_DELAY_SECONDS are left to their delivery. Checkout
    down: a warning, and the next run tries again (no retry storm)."""
    until = timezone.now() - timedelta(seconds=settings.ATTRIBUTION_RECONCILE_DELAY_SECONDS)
    since = until - timedelta(hours=settings.ATTRIBUTION_RECONCILE_HOURS)
    try:
        return attribution_reconcile(since=since, until=until)
    except CheckoutUnavailable as error:
        logger.warning(
            "Attribution reconciliation skipped: checkout unavailable; next run retries",
            extra={"error": str(error)},
        )
        return None
