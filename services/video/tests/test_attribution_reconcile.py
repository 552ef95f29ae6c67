"""Reconciliation: an `order.paid` or `order.refunded` lost on its way (a worker killed
holding it) is applied from checkout's order-events API — the real checkout, over HTTP —
through the same handlers, once, whatever the real event does meanwhile; so are a lost
`order.delivered`, `order.return_requested` and `order.return_closed` (their listing
faked at the HTTP boundary, their payloads checkout's own)."""

from __future__ import annotations

import json
import logging
import threading
import uuid
from contextlib import contextmanager
from datetime import timedelta

import pytest
from django.conf import settings
from django.db import connections
from django.db.models import Sum
from django.utils import timezone
from django.utils.dateparse import parse_datetime

from attribution.models import (
    AttributionModel,
    Credit,
    DeliveryReceived,
    RefundReceived,
    ReturnReceived,
    SaleLine,
)
from attribution.services import attribution_reconcile
from attribution.tasks import reconcile
from clipcart_shared.outbox.services import event_consume
from tests.checkout_server import OrderEventsServer
from tests.factories import (
    CreatorFactory,
    ProductTagFactory,
    VideoFactory,
    engagement_event,
    paid_line,
)

pytestmark = pytest.mark.django_db
MODELS = sorted(AttributionModel.values)
NONE = {
    f"{kind}{applied}": 0
    for kind in ("paid", "refunds", "delivered", "returns_requested", "returns_closed")
    for applied in ("", "_applied")
}


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

    assert counts == {**NONE, "paid": 1, "paid_applied": 1}
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

    assert counts == {**NONE, "paid": 1, "refunds": 1, "refunds_applied": 1}
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


# After payment: deliveries and returns. Only checkout's own flows make shipments and
# returns, so its order-events API is faked at the HTTP boundary (`OrderEventsServer`),
# serving the payloads checkout's real builders made (`manage.py event_samples`).


def _served(sample: dict) -> dict:
    """A sample envelope as checkout's order-events API lists it."""
    return {key: sample[key] for key in ("type", "subject", "data")}


@pytest.fixture
def after_paid(checkout):
    """Checkout's samples of one order: paid 4000 (2 units) from a video's tag, half
    refunded, delivered with its return window closed yesterday, one unit's return
    requested and rejected. {type: envelope}."""
    tag = ProductTagFactory(video=VideoFactory(creator=CreatorFactory(commission_rate_bps=1000)))
    user = f"buyer-{uuid.uuid4().hex[:8]}"
    engagement_event(user, tag.video, "tag_tap", timezone.now() - timedelta(hours=1))
    order = {
        "user_id": user,
        "lines": [paid_line(tag, amount=4000, quantity=2)],
        "refund_amount": 2000,
        "delivered_at": (timezone.now() - timedelta(days=31)).isoformat(),
        "returns_close_at": (timezone.now() - timedelta(days=1)).isoformat(),
        "return_status": "rejected",
    }
    printed = checkout.service.manage("event_samples", "--order", json.dumps(order))
    return {sample["type"]: sample for sample in json.loads(printed)}


@contextmanager
def _checkout_listing(settings, samples: dict, types: tuple[str, ...]):
    with OrderEventsServer({kind: [_served(samples[kind])] for kind in types}) as fake:
        settings.CHECKOUT_URL = fake.url
        yield fake


ALL_TYPES = (
    "order.paid",
    "order.refunded",
    "order.delivered",
    "order.return_requested",
    "order.return_closed",
)


def _settlement() -> list[tuple]:
    return list(
        SaleLine.objects.values_list("delivered_quantity", "returns_close_at", "held_quantity")
    )


def test_a_lost_order_with_its_delivery_and_return_is_recovered_once(settings, after_paid, since):
    delivered = after_paid["order.delivered"]["data"]
    until = timezone.now()
    with _checkout_listing(settings, after_paid, ALL_TYPES) as fake:
        counts = attribution_reconcile(since=since, until=until)
        again = attribution_reconcile(since=since, until=until)

    assert counts == {kind: 1 for kind in NONE}  # every one seen once, and lost
    assert {kind: n for kind, n in again.items() if kind.endswith("_applied")} == {
        kind: 0 for kind in NONE if kind.endswith("_applied")
    }
    assert {query["type"] for query in fake.asked} == set(ALL_TYPES)
    assert {(query["since"], query["until"]) for query in fake.asked} == {
        (since.isoformat(), until.isoformat())
    }
    assert _settlement() == [(2, parse_datetime(delivered["returns_close_at"]), 0)]
    assert ReturnReceived.objects.get().status == "rejected"
    assert DeliveryReceived.objects.get().shipment_id == uuid.UUID(delivered["shipment_id"])
    # The real events arriving late change nothing.
    for kind in ALL_TYPES:
        assert event_consume(envelope=after_paid[kind]) is True
    assert _settlement() == [(2, parse_datetime(delivered["returns_close_at"]), 0)]
    assert _credits(after_paid["order.paid"]["data"]["order_id"]) == [
        (model, 2, 2000) for model in MODELS
    ]


def test_a_lost_return_close_releases_the_hold(settings, after_paid, since):
    for kind in ("order.paid", "order.delivered", "order.return_requested"):
        event_consume(envelope=after_paid[kind])
    assert _settlement()[0][2] == 1  # held by the open return

    with _checkout_listing(settings, after_paid, ALL_TYPES):
        counts = attribution_reconcile(since=since, until=timezone.now())

    assert (counts["returns_requested_applied"], counts["returns_closed_applied"]) == (0, 1)
    assert (counts["delivered"], counts["delivered_applied"]) == (1, 0)
    assert _settlement()[0][2] == 0
    assert ReturnReceived.objects.get().closed_at is not None


def test_a_checkout_that_does_not_list_deliveries_yet_is_a_warning_and_the_rest_is_applied(
    settings, after_paid, since, caplog
):
    with (
        _checkout_listing(settings, after_paid, ("order.paid", "order.refunded")) as fake,
        caplog.at_level(logging.WARNING),
    ):
        counts = attribution_reconcile(since=since, until=timezone.now())

    assert counts == {**NONE, "paid": 1, "paid_applied": 1, "refunds": 1, "refunds_applied": 1}
    assert {query["type"] for query in fake.asked} == set(ALL_TYPES)
    assert caplog.text.count("Checkout does not list these events yet") == 3
    assert _settlement() == [(0, None, 0)]


@pytest.mark.parametrize("field", ["until", "type"])
def test_a_400_on_payments_or_about_another_field_is_checkout_refusing_the_call(
    settings, caplog, field
):
    # Only the after-payment types may be missing from a checkout; `order.paid` never.
    with OrderEventsServer({}, refused_field=field) as fake, caplog.at_level(logging.WARNING):
        settings.CHECKOUT_URL = fake.url
        assert reconcile() is None  # the task: a warning, the next run retries

    assert [query["type"] for query in fake.asked] == ["order.paid"]
    assert "checkout unavailable" in caplog.text
    assert "does not list these events" not in caplog.text


@pytest.mark.django_db(transaction=True)
def test_a_recovered_delivery_racing_the_real_one_is_counted_once(settings, after_paid, since):
    event_consume(envelope=after_paid["order.paid"])
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

    listed = ("order.paid", "order.refunded", "order.delivered")
    with _checkout_listing(settings, after_paid, listed):
        threads = [
            threading.Thread(
                target=run,
                args=(lambda: event_consume(envelope=after_paid["order.delivered"]),),
            ),
            threading.Thread(
                target=run, args=(lambda: attribution_reconcile(since=since, until=until),)
            ),
        ]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()

    assert errors == []
    assert DeliveryReceived.objects.count() == 1
    returns_close_at = parse_datetime(after_paid["order.delivered"]["data"]["returns_close_at"])
    assert _settlement() == [(2, returns_close_at, 0)]
