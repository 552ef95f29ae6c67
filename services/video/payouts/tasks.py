from __future__ import annotations

from celery import shared_task

from payouts.batches import creator_payouts_run as run


@shared_task(name="payouts.creator_payouts_run", time_limit=900, soft_time_limit=840)
def creator_payouts_run() -> dict[str, int]:
    """Creators' payouts (beat, every CREATOR_PAYOUT_RUN_SECONDS): freeze what settled,
    pay the batch, retry and record what is left (ADR 33)."""
    return run()
