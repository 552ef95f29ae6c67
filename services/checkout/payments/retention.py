"""Retention of the Stripe webhook log: the row stays, the payload goes.

A Stripe event's payload carries the buyer's personal data (name, e-mail, address, card
details Stripe shares). Once applied or ignored it is needed no more: after
`WEBHOOK_PAYLOAD_RETENTION_DAYS` it is emptied, and the row keeps its id, type, status,
error and times (the redelivery check and the admin's log need only those). Events still
`received` (waiting for the worker or the sweep) or `failed` (to be looked at) keep it.
"""

from __future__ import annotations

from datetime import timedelta

from django.conf import settings
from django.db.models import QuerySet
from django.utils import timezone

from clipcart_shared.retention import rows_retire
from payments.models import WebhookEvent

SCRUBBED_STATUSES = (
    WebhookEvent.Status.PROCESSED,
    WebhookEvent.Status.IGNORED,
    WebhookEvent.Status.MISMATCH,
)


def _payload_empty(rows: QuerySet[WebhookEvent]) -> int:
    return rows.update(payload={})


def webhook_payloads_scrub(*, batch_size: int = 500) -> int:
    """Empty the payload of processed or ignored Stripe events received more than
    `WEBHOOK_PAYLOAD_RETENTION_DAYS` ago, in batches. Returns how many were emptied."""
    cutoff = timezone.now() - timedelta(days=settings.WEBHOOK_PAYLOAD_RETENTION_DAYS)
    due = WebhookEvent.objects.filter(status__in=SCRUBBED_STATUSES, received_at__lt=cutoff).exclude(
        payload={}
    )
    return rows_retire(
        queryset=due, retire=_payload_empty, name="webhook_payloads", batch_size=batch_size
    )
