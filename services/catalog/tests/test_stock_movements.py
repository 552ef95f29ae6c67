"""Every change of on-hand is a movement row: adjustments, sales (commits) and restocks.
Reserving and releasing only move `quantity_reserved`, so they write none."""

from __future__ import annotations

import threading
from datetime import timedelta
from io import StringIO

import pytest
from django.core.management import call_command
from django.db import connection, transaction
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from clipcart_shared.errors import ApplicationError
from inventory.models import Reservation, StockMovement
from inventory.services import (
    reservation_commit,
    reservation_create,
    reservation_release,
    reservations_expire,
    stock_count,
    stock_receive,
    stock_restock,
    stock_write_off,
)
from products.models import Variant
from tests.factories import VariantFactory

pytestmark = pytest.mark.django_db


def _movements(variant: Variant) -> list[tuple[str, int, int, str, str]]:
    rows = StockMovement.objects.filter(variant=variant).order_by("created_at", "id")
    return list(rows.values_list("kind", "delta", "on_hand_after", "actor", "reference"))


def _on_hand(variant: Variant) -> int:
    variant.refresh_from_db()
    return variant.quantity_on_hand


def test_a_commit_writes_one_committed_movement_per_line_once():
    first, second = VariantFactory(quantity_on_hand=10), VariantFactory(quantity_on_hand=4)
    reservation, _ = reservation_create(
        key="order-1", lines=[(first.id, 3), (second.id, 4)], ttl_seconds=900
    )

    reservation_commit(reservation_id=reservation.id)
    reservation_commit(reservation_id=reservation.id)  # a retried commit: nothing more

    reference = str(reservation.id)
    assert _movements(first) == [("committed", -3, 7, "system:checkout", reference)]
    assert _movements(second) == [("committed", -4, 0, "system:checkout", reference)]


def test_reserving_releasing_and_expiring_write_no_movement():
    variant = VariantFactory(quantity_on_hand=10)
    released, _ = reservation_create(key="a", lines=[(variant.id, 2)], ttl_seconds=900)
    expired, _ = reservation_create(key="b", lines=[(variant.id, 3)], ttl_seconds=900)
    reservation_release(reservation_id=released.id)
    Reservation.objects.filter(id=expired.id).update(expires_at=timezone.now() - timedelta(1))
    assert reservations_expire() == 1

    assert _movements(variant) == []
    assert _on_hand(variant) == 10


def test_an_expired_reservation_committed_late_writes_its_movement():
    variant = VariantFactory(quantity_on_hand=5)
    late, _ = reservation_create(key="late", lines=[(variant.id, 2)], ttl_seconds=900)
    Reservation.objects.filter(id=late.id).update(expires_at=timezone.now() - timedelta(1))
    reservations_expire()

    reservation_commit(reservation_id=late.id)

    assert _movements(variant) == [("committed", -2, 3, "system:checkout", str(late.id))]


def test_receive_and_write_off_record_the_resulting_level():
    variant = VariantFactory(quantity_on_hand=10)

    stock_receive(variant_id=variant.id, quantity=6, actor="alice", note="Delivery 12")
    stock_write_off(variant_id=variant.id, quantity=9, actor="alice", note="Water damage")

    assert _on_hand(variant) == 7
    assert _movements(variant) == [
        ("received", 6, 16, "alice", ""),
        ("written_off", -9, 7, "alice", ""),
    ]
    assert list(StockMovement.objects.order_by("created_at").values_list("note", flat=True)) == [
        "Delivery 12",
        "Water damage",
    ]


def test_a_write_off_below_the_reserved_units_is_refused_and_writes_nothing():
    variant = VariantFactory(quantity_on_hand=10)
    reservation_create(key="held", lines=[(variant.id, 4)], ttl_seconds=900)

    with pytest.raises(ApplicationError) as refused:
        stock_write_off(variant_id=variant.id, quantity=7, actor="alice")

    assert (refused.value.code, refused.value.status) == ("stock_below_reserved", 409)
    assert str(refused.value) == (
        "At most 6 units can be written off: 10 on hand, 4 reserved for open checkouts."
    )
    assert _on_hand(variant) == 10
    assert _movements(variant) == []


def test_a_count_checks_the_level_it_was_counted_against():
    variant = VariantFactory(quantity_on_hand=10)

    with pytest.raises(ApplicationError) as refused:
        stock_count(variant_id=variant.id, counted=4, expected_on_hand=9, actor="alice")
    assert (refused.value.code, refused.value.status) == ("stock_count_stale", 409)
    assert refused.value.extra == {"on_hand": 10}
    assert _movements(variant) == []

    stock_count(variant_id=variant.id, counted=4, expected_on_hand=10, actor="alice")
    assert _on_hand(variant) == 4
    assert _movements(variant) == [("counted", -6, 4, "alice", "")]
    assert stock_count(variant_id=variant.id, counted=4, expected_on_hand=4, actor="a") is None


@pytest.mark.parametrize("quantity", [0, -1])
def test_adjustments_need_a_positive_quantity(quantity):
    variant = VariantFactory(quantity_on_hand=10)

    for adjust in (stock_receive, stock_write_off):
        with pytest.raises(ApplicationError) as refused:
            adjust(variant_id=variant.id, quantity=quantity, actor="alice")
        assert refused.value.code == "stock_quantity_invalid"
    assert _movements(variant) == []


def test_a_restock_puts_units_back_once_per_key():
    first, second = VariantFactory(quantity_on_hand=0), VariantFactory(quantity_on_hand=3)
    lines = [(second.id, 1), (first.id, 2)]

    stock_restock(key="return-7", lines=lines, actor="system:checkout", note="Returned")
    stock_restock(key="return-7", lines=lines, actor="system:checkout", note="Returned")

    assert (_on_hand(first), _on_hand(second)) == (2, 4)
    assert _movements(first) == [("restocked", 2, 2, "system:checkout", "return-7")]
    assert _movements(second) == [("restocked", 1, 4, "system:checkout", "return-7")]
    with pytest.raises(ApplicationError) as reused:
        stock_restock(key="return-7", lines=[(first.id, 5)], actor="system:checkout")
    assert (reused.value.code, reused.value.status) == ("restock_key_reused", 422)
    assert _on_hand(first) == 2


def test_an_adjustment_is_a_delta_in_sql_under_the_row_lock():
    variant = VariantFactory(quantity_on_hand=10)

    with CaptureQueriesContext(connection) as queries:
        stock_receive(variant_id=variant.id, quantity=5, actor="alice")

    statements = [query["sql"] for query in queries.captured_queries]
    [lock] = [index for index, sql in enumerate(statements) if "FOR UPDATE" in sql]
    [update] = [
        index for index, sql in enumerate(statements) if sql.startswith('UPDATE "products_variant"')
    ]
    assert lock < update
    assert '("products_variant"."quantity_on_hand" + 5)' in statements[update]


@pytest.mark.django_db(transaction=True)
@pytest.mark.concurrency
def test_a_write_off_waits_for_a_sale_in_progress_and_then_counts_what_is_left():
    variant = VariantFactory(quantity_on_hand=10)
    reservation, _ = reservation_create(key="paid", lines=[(variant.id, 6)], ttl_seconds=900)
    sale_locked, write_off_done = threading.Event(), threading.Event()
    outcome: list[object] = []

    def write_off() -> None:
        sale_locked.wait(10)
        try:
            outcome.append(stock_write_off(variant_id=variant.id, quantity=4, actor="alice"))
        except ApplicationError as error:
            outcome.append(error)
        finally:
            write_off_done.set()
            connection.close()

    thread = threading.Thread(target=write_off)
    thread.start()
    with transaction.atomic():
        reservation_commit(reservation_id=reservation.id)  # holds the variant's lock
        sale_locked.set()
        assert not write_off_done.wait(0.5), "the write-off must wait for the sale's lock"
    thread.join(10)

    [movement] = outcome
    assert isinstance(movement, StockMovement)
    assert (movement.delta, movement.on_hand_after) == (-4, 0)
    assert _on_hand(variant) == 0
    assert [kind for kind, *_ in _movements(variant)] == ["committed", "written_off"]


def test_seeded_demo_stock_starts_in_the_movement_log():
    call_command("seed_demo", stdout=StringIO())

    stocked = Variant.objects.filter(quantity_on_hand__gt=0)
    assert stocked.exists()
    for variant in stocked:
        assert _movements(variant) == [
            ("counted", variant.quantity_on_hand, variant.quantity_on_hand, "system:seed_demo", "")
        ]
