"""Retention in checkout: the payloads of Stripe events applied long ago are emptied (the
rows stay), and carts left empty are deleted, each after its setting's days."""

from __future__ import annotations

import threading
import uuid
from datetime import timedelta

import pytest
from django.db import connection, transaction
from django.utils import timezone

from carts.models import Cart, CartLine
from carts.services import cart_for_user, carts_prune
from carts.tasks import carts_prune as carts_prune_task
from payments.models import WebhookEvent
from payments.retention import webhook_payloads_scrub
from payments.tasks import webhook_payloads_scrub as webhook_payloads_scrub_task

PAYLOAD = {"data": {"object": {"receipt_email": "buyer@example.com", "shipping": {"name": "A B"}}}}


def _event(status: str, days_ago: float) -> WebhookEvent:
    event = WebhookEvent.objects.create(
        event_id=f"evt_{uuid.uuid4().hex}",
        type="payment_intent.succeeded",
        payload=PAYLOAD,
        status=status,
        error="why" if status == WebhookEvent.Status.FAILED else "",
    )
    received_at = timezone.now() - timedelta(days=days_ago)
    WebhookEvent.objects.filter(id=event.id).update(received_at=received_at)
    event.refresh_from_db()
    return event


def _payloads() -> dict[int, dict]:
    return dict(WebhookEvent.objects.values_list("id", "payload"))


@pytest.mark.django_db
def test_payloads_of_old_applied_or_ignored_events_are_emptied_and_the_rows_kept(settings):
    settings.WEBHOOK_PAYLOAD_RETENTION_DAYS = 30
    processed = _event(WebhookEvent.Status.PROCESSED, 31)
    ignored = _event(WebhookEvent.Status.IGNORED, 90)
    recent = _event(WebhookEvent.Status.PROCESSED, 29)
    waiting = _event(WebhookEvent.Status.RECEIVED, 90)
    failed = _event(WebhookEvent.Status.FAILED, 90)

    assert webhook_payloads_scrub() == 2

    assert _payloads() == {
        processed.id: {},
        ignored.id: {},
        recent.id: PAYLOAD,
        waiting.id: PAYLOAD,
        failed.id: PAYLOAD,
    }
    kept = WebhookEvent.objects.get(id=processed.id)
    assert (kept.event_id, kept.type, kept.status, kept.received_at) == (
        processed.event_id,
        processed.type,
        WebhookEvent.Status.PROCESSED,
        processed.received_at,
    )
    assert webhook_payloads_scrub() == 0  # nothing left to empty


@pytest.mark.django_db
def test_the_webhook_payload_setting_is_respected(settings):
    young = _event(WebhookEvent.Status.PROCESSED, 3)
    older = _event(WebhookEvent.Status.PROCESSED, 8)
    settings.WEBHOOK_PAYLOAD_RETENTION_DAYS = 7

    assert webhook_payloads_scrub(batch_size=1) == 1
    assert _payloads() == {young.id: PAYLOAD, older.id: {}}


def _cart(user_id: str, days_ago: float, lines: int = 0) -> Cart:
    cart = Cart.objects.create(user_id=user_id)
    for _ in range(lines):
        CartLine.objects.create(
            cart=cart,
            variant_id=uuid.uuid4(),
            product_id=uuid.uuid4(),
            title="Beanie",
            quantity=1,
            unit_price_amount=1000,
            currency="EUR",
        )
    Cart.objects.filter(id=cart.id).update(updated_at=timezone.now() - timedelta(days=days_ago))
    return cart


def _cart_users() -> set[str]:
    return set(Cart.objects.values_list("user_id", flat=True))


@pytest.mark.django_db
def test_old_empty_carts_are_deleted_and_carts_with_lines_or_recent_ones_kept(settings):
    settings.EMPTY_CART_RETENTION_DAYS = 30
    _cart("empty-long-ago", 31)
    _cart("full-long-ago", 400, lines=2)
    _cart("empty-recently", 29)

    assert carts_prune() == 1

    assert _cart_users() == {"full-long-ago", "empty-recently"}
    assert CartLine.objects.count() == 2
    # The user whose cart went gets a new one on their next call.
    assert cart_for_user(user_id="empty-long-ago").lines.count() == 0


@pytest.mark.django_db
def test_the_empty_cart_setting_is_respected(settings):
    _cart("five-days", 5)
    _cart("eleven-days", 11)
    settings.EMPTY_CART_RETENTION_DAYS = 10

    assert carts_prune(batch_size=1) == 1
    assert _cart_users() == {"five-days"}


@pytest.mark.django_db(transaction=True)
def test_a_cart_someone_is_adding_to_is_never_deleted(settings):
    # cart_line_add locks the cart row, then inserts the line: the prune running in
    # between skips the locked cart instead of deleting it under the new line.
    settings.EMPTY_CART_RETENTION_DAYS = 1
    cart = _cart("adding", 5)
    locked, release = threading.Event(), threading.Event()

    def add_a_line() -> None:
        try:
            with transaction.atomic():
                Cart.objects.select_for_update().get(id=cart.id)
                locked.set()
                release.wait(10)
                CartLine.objects.create(
                    cart=cart,
                    variant_id=uuid.uuid4(),
                    product_id=uuid.uuid4(),
                    title="Beanie",
                    quantity=1,
                    unit_price_amount=1000,
                    currency="EUR",
                )
        finally:
            connection.close()

    adder = threading.Thread(target=add_a_line)
    adder.start()
    assert locked.wait(10)
    try:
        pruned = carts_prune()
    finally:
        release.set()
        adder.join(10)

    assert pruned == 0
    assert Cart.objects.filter(id=cart.id).exists()
    assert CartLine.objects.filter(cart=cart).count() == 1


@pytest.mark.django_db
def test_the_scheduler_runs_both_retention_tasks(settings):
    _event(WebhookEvent.Status.IGNORED, 400)
    _cart("long-gone", 400)
    entries = settings.CELERY_BEAT_SCHEDULE.values()
    schedule = {entry["task"]: entry["schedule"] for entry in entries}

    assert schedule[webhook_payloads_scrub_task.name] == settings.RETENTION_SECONDS == 6 * 3600
    assert schedule[carts_prune_task.name] == settings.RETENTION_SECONDS
    assert webhook_payloads_scrub_task.apply().get() == 1
    assert carts_prune_task.apply().get() == 1
