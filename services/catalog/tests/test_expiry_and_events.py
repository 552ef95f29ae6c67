from __future__ import annotations

import uuid
from datetime import timedelta
from unittest import mock

import pytest
from django.db import transaction
from django.utils import timezone

from clipcart_shared.outbox.models import OutboxEvent, ProcessedEvent
from clipcart_shared.outbox.services import (
    EVENT_TASK_NAME,
    EventHandler,
    event_consume,
    event_publish,
    outbox_relay,
)
from inventory.models import Reservation
from inventory.services import reservation_commit, reservation_create, reservations_expire
from inventory.tasks import reservations_expire as reservations_expire_task
from tests.factories import VariantFactory

pytestmark = pytest.mark.django_db

# The table of handlers the consumer tests below register in, as a service's
# config/event_handlers.py does.
EVENT_HANDLERS: dict[str, EventHandler] = {}


@pytest.fixture(autouse=True)
def _handlers_of_this_module(settings):
    settings.EVENT_HANDLERS = f"{__name__}.EVENT_HANDLERS"
    yield
    EVENT_HANDLERS.clear()


def _expire_now(reservation: Reservation) -> None:
    Reservation.objects.filter(id=reservation.id).update(
        expires_at=timezone.now() - timedelta(seconds=1)
    )


def test_expired_reservations_give_their_stock_back():
    variant = VariantFactory(quantity_on_hand=4)
    stale, _ = reservation_create(key="stale", lines=[(variant.id, 3)], ttl_seconds=900)
    fresh, _ = reservation_create(key="fresh", lines=[(variant.id, 1)], ttl_seconds=900)
    _expire_now(stale)

    assert reservations_expire_task.delay().get() == 1

    stale.refresh_from_db()
    fresh.refresh_from_db()
    variant.refresh_from_db()
    assert (stale.status, fresh.status) == ("expired", "active")
    assert (variant.quantity_on_hand, variant.quantity_reserved) == (4, 1)
    assert reservations_expire() == 0  # nothing left to do: idempotent


def test_a_reservation_that_blows_up_does_not_stop_the_others_expiring():
    from clipcart_shared.sweeps.models import SweepBackoff
    from inventory.services import reservations as reservation_services

    variant = VariantFactory(quantity_on_hand=4)
    poisoned, _ = reservation_create(key="poisoned", lines=[(variant.id, 1)], ttl_seconds=900)
    healthy, _ = reservation_create(key="healthy", lines=[(variant.id, 1)], ttl_seconds=900)
    for reservation in (poisoned, healthy):
        _expire_now(reservation)
    real_give_back = reservation_services._give_back

    def give_back(reservation, lines, status):  # type: ignore[no-untyped-def]
        if reservation.id == poisoned.id:
            raise RuntimeError("something nobody expected")
        return real_give_back(reservation, lines, status)

    with mock.patch.object(reservation_services, "_give_back", give_back):
        assert reservations_expire() == 1
        assert reservations_expire() == 0  # backed off, not tried again at once

    poisoned.refresh_from_db()
    healthy.refresh_from_db()
    assert (poisoned.status, healthy.status) == ("active", "expired")
    assert SweepBackoff.objects.get().key == str(poisoned.id)
    SweepBackoff.objects.update(retry_at=timezone.now() - timedelta(seconds=1))
    assert reservations_expire() == 1
    assert not SweepBackoff.objects.exists()


def test_an_expired_reservation_commits_only_if_the_stock_is_still_there():
    variant = VariantFactory(quantity_on_hand=2)
    late, _ = reservation_create(key="late", lines=[(variant.id, 2)], ttl_seconds=900)
    _expire_now(late)
    reservations_expire()
    reservation_commit(reservation_id=late.id)
    variant.refresh_from_db()
    assert (variant.quantity_on_hand, variant.quantity_reserved) == (0, 0)

    other = VariantFactory(quantity_on_hand=1)
    gone, _ = reservation_create(key="gone", lines=[(other.id, 1)], ttl_seconds=900)
    _expire_now(gone)
    reservations_expire()
    reservation_create(key="someone-else", lines=[(other.id, 1)], ttl_seconds=900)
    from clipcart_shared.errors import ApplicationError

    with pytest.raises(ApplicationError) as error:
        reservation_commit(reservation_id=gone.id)
    assert error.value.code == "out_of_stock"
    other.refresh_from_db()
    assert (other.quantity_on_hand, other.quantity_reserved) == (1, 1)


def test_outbox_relay_sends_each_event_to_each_subscriber_queue_then_marks_it(settings):
    settings.EVENT_ROUTES = {"product.changed": ["video.events", "search.events"]}
    with transaction.atomic():
        event = event_publish(type="product.changed", subject="p1", data={"title": "A"})
        event_publish(type="unrouted.thing", subject="x", data={})

    with mock.patch("clipcart_shared.outbox.services.current_app.send_task") as send_task:
        assert outbox_relay() == 2

    sent = [
        (call.args[0], call.kwargs["queue"], call.kwargs["args"][0])
        for call in send_task.call_args_list
    ]
    assert [(name, queue) for name, queue, _ in sent] == [
        (EVENT_TASK_NAME, "video.events"),
        (EVENT_TASK_NAME, "search.events"),
    ]
    envelope = sent[0][2]
    assert envelope["id"] == str(event.id)
    assert envelope["type"] == "product.changed"
    assert envelope["source"] == "catalog"
    assert envelope["data"] == {"title": "A"}
    assert OutboxEvent.objects.filter(published_at__isnull=True).count() == 0
    with mock.patch("clipcart_shared.outbox.services.current_app.send_task") as send_task:
        assert outbox_relay() == 0
    send_task.assert_not_called()


def test_a_broker_failure_leaves_events_unpublished_for_the_next_relay(settings):
    settings.EVENT_ROUTES = {"product.changed": ["video.events"]}
    with transaction.atomic():
        event_publish(type="product.changed", subject="p1", data={})
    with (
        mock.patch(
            "clipcart_shared.outbox.services.current_app.send_task",
            side_effect=ConnectionError("broker down"),
        ),
        pytest.raises(ConnectionError),
    ):
        outbox_relay()
    assert OutboxEvent.objects.filter(published_at__isnull=True).count() == 1


@pytest.mark.django_db(transaction=True)
def test_event_publish_refuses_to_run_outside_a_transaction():
    with pytest.raises(RuntimeError):
        event_publish(type="product.changed", subject="p1", data={})
    assert OutboxEvent.objects.count() == 0


def test_a_redelivered_event_is_applied_once():
    applied: list[str] = []
    EVENT_HANDLERS["test.happened"] = lambda envelope: applied.append(envelope["subject"])
    envelope = {"id": str(uuid.uuid4()), "type": "test.happened", "subject": "s", "data": {}}

    assert event_consume(envelope=envelope) is True
    assert event_consume(envelope=envelope) is False

    assert applied == ["s"]
    assert ProcessedEvent.objects.filter(event_id=envelope["id"]).count() == 1


def test_a_failing_handler_leaves_no_processed_row_so_the_retry_applies_it():
    attempts: list[int] = []

    def flaky(envelope):
        attempts.append(1)
        if len(attempts) == 1:
            raise RuntimeError("database hiccup")

    EVENT_HANDLERS["test.flaky"] = flaky
    envelope = {"id": str(uuid.uuid4()), "type": "test.flaky", "subject": "s", "data": {}}
    with pytest.raises(RuntimeError):
        event_consume(envelope=envelope)
    assert ProcessedEvent.objects.count() == 0
    assert event_consume(envelope=envelope) is True
    assert len(attempts) == 2
