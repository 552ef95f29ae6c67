"""Retention of reservations: finished ones are deleted after
`RESERVATION_RETENTION_DAYS`.

A reservation is finished once committed (paid: its units left the shelf), released or
expired (given back); either way its stock counters are already settled, so deleting it
changes no level. Who still reads one: checkout, by the id it stored on the order, only
while the order is pending (commit when paid, release when cancelled or expired, both
within the reservation's minutes); `GET /internal/v1/reservations/{id}/` and the admin,
for looking one up. After the retention days those answer 404 and the admin lists only
younger ones; an active reservation is never deleted, however old.
"""

from __future__ import annotations

from datetime import timedelta

from django.conf import settings
from django.utils import timezone

from clipcart_shared.retention import rows_delete, rows_retire
from inventory.models import Reservation

FINISHED_STATUSES = (
    Reservation.Status.COMMITTED,
    Reservation.Status.RELEASED,
    Reservation.Status.EXPIRED,
)


def reservations_prune(*, batch_size: int = 500) -> int:
    """Delete reservations (and their lines) committed, released or expired more than
    `RESERVATION_RETENTION_DAYS` ago, in batches. Returns how many went."""
    cutoff = timezone.now() - timedelta(days=settings.RESERVATION_RETENTION_DAYS)
    finished = Reservation.objects.filter(status__in=FINISHED_STATUSES, updated_at__lt=cutoff)
    return rows_retire(
        queryset=finished, retire=rows_delete, name="reservations", batch_size=batch_size
    )
