"""Retention of reservations: committed, released and expired ones go after
RESERVATION_RETENTION_DAYS (their lines with them, stock untouched); active ones never."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from inventory.models import Reservation, ReservationLine
from inventory.retention import reservations_prune
from inventory.services import reservation_commit, reservation_create, reservation_release
from inventory.tasks import reservations_prune as reservations_prune_task
from tests.factories import VariantFactory

pytestmark = pytest.mark.django_db


def _reservation(key: str, variant, *, status: str, days_ago: float) -> Reservation:
    reservation, _ = reservation_create(key=key, lines=[(variant.id, 1)], ttl_seconds=900)
    if status == Reservation.Status.COMMITTED:
        reservation_commit(reservation_id=reservation.id)
    elif status == Reservation.Status.RELEASED:
        reservation_release(reservation_id=reservation.id)
    elif status == Reservation.Status.EXPIRED:
        Reservation.objects.filter(id=reservation.id).update(status=status)
    Reservation.objects.filter(id=reservation.id).update(
        updated_at=timezone.now() - timedelta(days=days_ago),
        created_at=timezone.now() - timedelta(days=days_ago),
    )
    return reservation


def _keys() -> set[str]:
    return set(Reservation.objects.values_list("key", flat=True))


def test_finished_reservations_go_after_the_setting_and_active_or_recent_ones_stay(settings):
    settings.RESERVATION_RETENTION_DAYS = 30
    variant = VariantFactory(quantity_on_hand=10)
    _reservation("committed-old", variant, status="committed", days_ago=31)
    _reservation("released-old", variant, status="released", days_ago=40)
    _reservation("expired-old", variant, status="expired", days_ago=400)
    _reservation("active-old", variant, status="active", days_ago=400)
    _reservation("committed-recent", variant, status="committed", days_ago=29)
    variant.refresh_from_db()
    levels = (variant.quantity_on_hand, variant.quantity_reserved)

    assert reservations_prune_task.delay().get() == 3

    assert _keys() == {"active-old", "committed-recent"}
    assert set(ReservationLine.objects.values_list("reservation__key", flat=True)) == _keys()
    variant.refresh_from_db()
    assert (variant.quantity_on_hand, variant.quantity_reserved) == levels  # no level moves
    assert reservations_prune() == 0


def test_the_scheduler_runs_it(settings):
    entries = settings.CELERY_BEAT_SCHEDULE.values()
    schedule = {entry["task"]: entry["schedule"] for entry in entries}

    assert schedule[reservations_prune_task.name] == settings.RETENTION_SECONDS == 6 * 3600
    assert settings.RESERVATION_RETENTION_DAYS == 30


def test_the_reservation_setting_is_respected(settings):
    variant = VariantFactory(quantity_on_hand=10)
    _reservation("four-days", variant, status="released", days_ago=4)
    _reservation("six-days", variant, status="committed", days_ago=6)
    settings.RESERVATION_RETENTION_DAYS = 5

    assert reservations_prune(batch_size=1) == 1
    assert _keys() == {"four-days"}


def test_a_pruned_reservation_is_404_on_the_internal_api(settings, service_client):
    settings.RESERVATION_RETENTION_DAYS = 1
    variant = VariantFactory(quantity_on_hand=10)
    gone = _reservation("gone", variant, status="committed", days_ago=2)

    reservations_prune()

    response = service_client.get(f"/internal/v1/reservations/{gone.id}/")
    assert response.status_code == 404
    assert response["Content-Type"].startswith("application/problem+json")
    assert response.json()["code"] == "not_found"
