"""Reads of the webhook log."""

from __future__ import annotations

from datetime import timedelta

from django.utils import timezone

from payments.models import WebhookEvent


def webhook_events_waiting(
    *, older_than: timedelta, excluded: list[str], limit: int = 500
) -> list[str]:
    """Ids of logged events still waiting to be applied, received more than `older_than`
    ago, oldest first (not those in `excluded`)."""
    return list(
        WebhookEvent.objects.filter(
            status=WebhookEvent.Status.RECEIVED, received_at__lt=timezone.now() - older_than
        )
        .exclude(event_id__in=excluded)
        .order_by("received_at", "id")
        .values_list("event_id", flat=True)[:limit]
    )
