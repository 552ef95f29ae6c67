"""Reconciliation: an `order.paid` or `order.refunded` lost on its way (a worker killed
holding it) is applied from checkout's order-events API — the real checkout, over HTTP —
through the same handlers, once, whatever the real event does meanwhile."""

from __future__ import annotations

import logging
import threading
import uuid
from datetime import timedelta

import pytest
from django.conf import settings
from django.db import connections
from django.db.models import Sum
from django.utils import timezone

from attribution.models import AttributionModel, Credit, RefundReceived, SaleLine
from attribution.services import attribution_reconcile
from attribution.tasks import reconcile
from clipcart_shared.outbox.services import event_consume
from tests.factories import (
    CreatorFactory,
    ProductTagFactory,
    VideoFactory,
    engagement_event,
    paid_line,
)

pytestmark = pytest.mark.django_db
MODELS = sorted(AttributionModel.values)


def _delivered(event: dict) -> dict:
    """The envelope the broker would have delivered for this event."""
    time = event["data"].get("paid_at") or event["data"]["refunded_at"]
    return {"id": str(uuid.uuid4()), "source": "checkout", "time": time, **event}


def _credits(order_id: str) -> list[tuple[str, int, int]]:
    """(model, rows, net amount) of the order's credits."""
    return list(
        Credit.objects.filter(sale_line__order_id=order_id)
        .values_list("model")
        .annotate(rows=Sum(1), net=Sum("amount"))
        .order_by("model")
        .values_list("model", "rows", "net")
    )


@pytest.fixture
def since():
    """The start of the test's window: before its sale (`sale` depends on it)."""
    return timezone.now()


@pytest.fixture
def sale(checkout, since):
    """A buyer tapped a video's tag; checkout then took their order for the product."""
    tag = ProductTagFactory(video=VideoFactory(creator=CreatorFactory(commission_rate_bps=1000)))
    user = f"buyer-{uuid.uuid4().hex[:8]}"
    engagement_event(user, tag.video, "tag_tap", timezone.now() - timedelta(hours=1))
    paid = checkout.pay(user_id=user, lines=[paid_line(tag, amount=4000)])
    return tag, paid


def test_a_lost_order_paid_is_credited_once(checkout, sale, since):
    tag, paid = sale
    order_id = paid["data"]["order_id"]
    assert not SaleLine.objects.exists()  # its event never arrived

    counts = attribution_reconcile(since=since, until=timezone.now())

    assert counts == {"paid": 1, "paid_applied": 1, "refunds": 0, "refunds_applied": 0}
    assert _credits(order_id) == [(model, 1, 4000) for model in MODELS]
    last = Credit.objects.get(model="last_touch")
    assert (last.video_id, last.commission_amount) == (tag.video_id, 400)
    # Again, and the event itself arriving late: nothing more.
    assert attribution_reconcile(since=since, until=timezone.now())["paid_applied"] == 0
    assert event_consume(envelope=_delivered(paid)) is True
    assert _credits(order_id) == [(model, 1, 4000) for model in MODELS]
    assert SaleLine.objects.count() == 1


def test_a_lost_refund_is_reversed_once(checkout, sale, since):
    _, paid = sale
    order_id = paid["data"]["order_id"]
    event_consume(envelope=_delivered(paid))  # the payment arrived; its refund will not
    refunded = checkout.refund(order_id=order_id, amount=1000)

    counts = attribution_reconcile(since=since, until=timezone.now())

    assert counts == {"paid": 1, "paid_applied": 0, "refunds": 1, "refunds_applied": 1}
    refund = RefundReceived.objects.get()
    assert str(refund.refund_id) == refunded["data"]["refund_id"]
    assert refund.applied_at is not None
    assert _credits(order_id) == [(model, 2, 3000) for model in MODELS]
    assert attribution_reconcile(since=since, until=timezone.now())["refunds_applied"] == 0
    assert event_consume(envelope=_delivered(refunded)) is True
    assert _credits(order_id) == [(model, 2, 3000) for model in MODELS]


def test_both_lost_the_payment_is_applied_before_its_refund(checkout, sale, since):
    _, paid = sale
    order_id = paid["data"]["order_id"]
    checkout.refund(order_id=order_id, amount=4000)

    attribution_reconcile(since=since, until=timezone.now())

    assert _credits(order_id) == [(model, 2, 0) for model in MODELS]


def test_a_lost_payment_that_blows_up_does_not_stop_the_others_being_credited(checkout, since):
    from unittest import mock

    from attribution.services import rebuilds
    from clipcart_shared.sweeps.models import SweepBackoff

    tag = ProductTagFactory(video=VideoFactory(creator=CreatorFactory(commission_rate_bps=1000)))
    poisoned, healthy = (
        checkout.pay(user_id=f"buyer-{n}-{uuid.uuid4().hex[:6]}", lines=[paid_line(tag)])
        for n in range(2)
    )
    real_apply = rebuilds.order_paid_apply

    def apply(envelope):  # type: ignore[no-untyped-def]
        if envelope["data"]["order_id"] == poisoned["data"]["order_id"]:
            raise RuntimeError("something nobody expected")
        return real_apply(envelope)

    with mock.patch.object(rebuilds, "order_paid_apply", apply):
        counts = attribution_reconcile(since=since, until=timezone.now())
        assert attribution_reconcile(since=since, until=timezone.now())["paid_applied"] == 0

    assert counts["paid_applied"] == 1
    assert set(SaleLine.objects.values_list("order_id", flat=True)) == {
        uuid.UUID(healthy["data"]["order_id"])
    }
    assert SweepBackoff.objects.get().key == poisoned["data"]["order_id"]
    SweepBackoff.objects.update(retry_at=timezone.now() - timedelta(seconds=1))
    assert attribution_reconcile(since=since, until=timezone.now())["paid_applied"] == 1
    assert not SweepBackoff.objects.exists()


def test_outside_the_window_nothing_is_applied(checkout, sale, since):
    # Checkout's database lives for the session: this window is before any of its orders.
    counts = attribution_reconcile(
        since=since - timedelta(days=1), until=since - timedelta(hours=1)
    )

    assert counts["paid"] == 0
    assert not SaleLine.objects.exists()


@pytest.mark.django_db(transaction=True)
def test_reconciliation_racing_the_real_event_credits_once(checkout, sale, since):
    _, paid = sale
    order_id = paid["data"]["order_id"]
    until = timezone.now()
    start = threading.Barrier(2)
    errors: list[BaseException] = []

    def run(work) -> None:
        try:
            start.wait()
            work()
        except BaseException as error:
            errors.append(error)
        finally:
            connections.close_all()

    threads = [
        threading.Thread(target=run, args=(lambda: event_consume(envelope=_delivered(paid)),)),
        threading.Thread(
            target=run, args=(lambda: attribution_reconcile(since=since, until=until),)
        ),
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert errors == []
    assert _credits(order_id) == [(model, 1, 4000) for model in MODELS]
    assert SaleLine.objects.filter(order_id=order_id).count() == 1


def test_the_task_covers_the_configured_hours_and_leaves_fresh_events(checkout, sale, settings):
    settings.ATTRIBUTION_RECONCILE_DELAY_SECONDS = 3600  # the sale is too fresh
    assert reconcile()["paid"] == 0
    settings.ATTRIBUTION_RECONCILE_DELAY_SECONDS = 0
    counts = reconcile()
    assert counts["paid"] >= 1  # earlier tests' orders too (checkout's database is shared)
    assert SaleLine.objects.filter(order_id=sale[1]["data"]["order_id"]).exists()


def test_checkout_down_is_a_warning_and_the_next_run_retries(checkout_down, caplog):
    with caplog.at_level(logging.WARNING):
        assert reconcile() is None

    assert "checkout unavailable" in caplog.text
    assert not SaleLine.objects.exists()


def test_the_scheduler_runs_it_on_the_attribution_queue():
    entry = settings.CELERY_BEAT_SCHEDULE["reconcile-attribution"]
    assert entry["task"] == "attribution.reconcile"
    assert entry["schedule"] == settings.ATTRIBUTION_RECONCILE_SECONDS == 300
    assert settings.ATTRIBUTION_RECONCILE_HOURS == 24
    assert settings.CELERY_TASK_ROUTES["attribution.reconcile"] == {"queue": "video.attribution"}
