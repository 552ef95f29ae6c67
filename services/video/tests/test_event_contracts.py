"""Consumer contract tests: the events video consumes, as their producers really build
them, applied by video's real handlers (looked up in config/event_handlers.py) on the real
database. Each producer prints its samples with `manage.py event_samples`, run in a catalog
and a checkout of their own (`clipcart_tools.testing.services`); no code of theirs is
imported here (ADR 19)."""

from __future__ import annotations

import json
import uuid
from datetime import timedelta

import pytest
from django.db.models import Sum
from django.utils import timezone

from attribution.models import AttributionModel, Credit, RefundReceived, SaleLine
from clipcart_shared.outbox.services import event_consume
from productcards.models import ProductCard
from tests.factories import (
    CreatorFactory,
    ProductTagFactory,
    VideoFactory,
    engagement_event,
    paid_line,
)

pytestmark = pytest.mark.django_db
MODELS = sorted(AttributionModel.values)


def test_catalog_product_changed_is_applied_to_the_product_cards(catalog):
    samples = json.loads(catalog.service.manage("event_samples"))
    active, archived = samples
    assert {sample["type"] for sample in samples} == {"product.changed"}

    assert [event_consume(envelope=sample) for sample in samples] == [True, True]

    card = ProductCard.objects.get(product_id=active["subject"])
    data = active["data"]
    assert (card.title, card.status, card.stock_status) == (data["title"], "active", "in_stock")
    assert (card.merchant_id, card.merchant_name) == (
        uuid.UUID(data["merchant"]["id"]),
        data["merchant"]["name"],
    )
    assert (card.price_amount, card.currency) == (12_900, "EUR")  # the lowest variant's
    assert card.image == data["images"][0]
    assert card.category_slug == data["category"]["slug"] != ""
    hidden = ProductCard.objects.get(product_id=archived["subject"])
    assert (hidden.status, hidden.category_slug, hidden.stock_status) == (
        "archived",
        "",
        "out_of_stock",
    )


def test_checkout_order_paid_and_refunded_are_credited_then_reversed(checkout):
    tag = ProductTagFactory(video=VideoFactory(creator=CreatorFactory(commission_rate_bps=1000)))
    user = f"buyer-{uuid.uuid4().hex[:8]}"
    engagement_event(user, tag.video, "tag_tap", timezone.now() - timedelta(hours=1))
    line = paid_line(tag, amount=4000, quantity=2, source=tag)
    order = {"user_id": user, "lines": [line], "refund_amount": 1000}
    printed = checkout.service.manage("event_samples", "--order", json.dumps(order))
    samples = {sample["type"]: sample for sample in json.loads(printed)}
    assert set(samples) == {
        "order.paid",
        "order.refunded",
        "order.cancelled",
        "order.shipped",
        "order.delivered",
        "order.return_requested",
        "order.return_closed",
    }
    order_id = samples["order.paid"]["data"]["order_id"]

    assert event_consume(envelope=samples["order.paid"]) is True

    sale = SaleLine.objects.get()
    assert (str(sale.line_id), str(sale.order_id)) == (line["line_id"], order_id)
    assert sale.user_id == user
    assert (sale.amount, sale.quantity, sale.source_video_id) == (4000, 2, tag.video_id)
    last = Credit.objects.get(model="last_touch")
    assert (last.video_id, last.amount, last.commission_amount) == (tag.video_id, 4000, 400)

    assert event_consume(envelope=samples["order.refunded"]) is True

    refund = RefundReceived.objects.get()
    assert str(refund.refund_id) == samples["order.refunded"]["data"]["refund_id"]
    assert refund.applied_at is not None
    net = dict(
        Credit.objects.filter(sale_line=sale).values_list("model").annotate(net=Sum("amount"))
    )
    assert net == {model: 3000 for model in MODELS}


@pytest.mark.parametrize("return_status", ["rejected", "refunded"])
def test_checkout_delivery_and_return_settle_the_line_when_its_window_closes(
    checkout, client_for, return_status
):
    creator = CreatorFactory(commission_rate_bps=1000)
    tag = ProductTagFactory(video=VideoFactory(creator=creator))
    user = f"buyer-{uuid.uuid4().hex[:8]}"
    engagement_event(user, tag.video, "tag_tap", timezone.now() - timedelta(hours=1))
    line = paid_line(tag, amount=4000, quantity=2)
    closes = timezone.now() - timedelta(minutes=1)
    order = {
        "user_id": user,
        "lines": [line],
        "refund_amount": 2000,
        "returns_close_at": closes.isoformat(),
        "return_status": return_status,
    }
    printed = checkout.service.manage("event_samples", "--order", json.dumps(order))
    samples = {sample["type"]: sample for sample in json.loads(printed)}
    event_consume(envelope=samples["order.paid"])

    assert event_consume(envelope=samples["order.shipped"]) is False  # not video's (no handler)
    assert event_consume(envelope=samples["order.delivered"]) is True
    sale = SaleLine.objects.get()
    assert (sale.delivered_quantity, sale.returns_close_at) == (2, closes)
    assert event_consume(envelope=samples["order.return_requested"]) is True
    assert SaleLine.objects.get().held_quantity == 1
    held = client_for(creator.user_id).get("/api/v1/creators/me/earnings/").json()
    assert held["videos"][0]["settled"]["net"] == {"amount": 0, "currency": "EUR"}

    assert event_consume(envelope=samples["order.return_closed"]) is True
    assert event_consume(envelope=samples["order.refunded"]) is True

    assert SaleLine.objects.get().held_quantity == 0
    assert RefundReceived.objects.get().applied_at is not None
    settled = client_for(creator.user_id).get("/api/v1/creators/me/earnings/").json()
    [video] = settled["videos"]
    assert video["settled"] == {
        "net": {"amount": 2000, "currency": "EUR"},
        "commission": {"amount": 200, "currency": "EUR"},
    }
    assert video["pending"]["schedule"] == []


def test_checkout_order_paid_with_a_creator_code_credits_the_codes_creator(checkout):
    tapped = ProductTagFactory(video=VideoFactory(published_at=timezone.now() - timedelta(days=2)))
    creator = CreatorFactory(commission_rate_bps=2000)
    coded = ProductTagFactory(
        video=VideoFactory(creator=creator, published_at=timezone.now() - timedelta(days=1)),
        product_id=tapped.product_id,
        merchant_id=tapped.merchant_id,
    )
    user = f"buyer-{uuid.uuid4().hex[:8]}"
    engagement_event(user, tapped.video, "tag_tap", timezone.now() - timedelta(hours=1))
    line = {
        **paid_line(tapped, amount=4500),
        "creator_code": {"code": "TRAILQUEEN10", "creator_id": str(creator.id)},
    }
    printed = checkout.service.manage(
        "event_samples", "--order", json.dumps({"user_id": user, "lines": [line]})
    )
    paid = next(sample for sample in json.loads(printed) if sample["type"] == "order.paid")
    assert paid["data"]["lines"][0]["creator_code"] == line["creator_code"]

    assert event_consume(envelope=paid) is True

    sale = SaleLine.objects.get()
    assert (sale.code, sale.code_creator_id) == ("TRAILQUEEN10", creator.id)
    last = Credit.objects.get(model="last_touch")
    assert (last.video_id, last.touch_type, last.commission_amount) == (
        coded.video_id,
        "creator_code",
        900,
    )
    first = Credit.objects.get(model="first_touch")
    assert first.video_id == tapped.video_id
