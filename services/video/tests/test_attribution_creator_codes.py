"""Creator codes in attribution: a code applied to an order is a click touch on its
creator's latest published video tagging the product, under every model; where it goes
when in-app taps disagree is the merchant's `creator_code_rule`; commission is on the
line's (net) amount; a full refund nets it to zero; a creator's own purchase earns
nothing."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.db.models import Sum
from django.utils import timezone

from attribution.models import AttributionModel, Credit, MerchantAttributionSettings, SaleLine
from clipcart_shared.outbox.services import event_consume
from tests.factories import (
    CreatorFactory,
    ProductTagFactory,
    VideoFactory,
    engagement_event,
    order_paid,
    order_refunded,
    paid_line,
)
from videos.models import Video

pytestmark = pytest.mark.django_db
MODELS = AttributionModel.values


@pytest.fixture
def now():
    return timezone.now().replace(microsecond=0) + timedelta(minutes=1)


@pytest.fixture
def shop(now):
    """Two creators' videos tagging one product (tapped in the app), and the code's
    creator with a video tagging it too; all published a day before the payment."""
    day_before = now - timedelta(days=1)
    tapped = ProductTagFactory(
        video=VideoFactory(
            creator=CreatorFactory(commission_rate_bps=1000), published_at=day_before
        )
    )
    other = ProductTagFactory(
        video=VideoFactory(
            creator=CreatorFactory(commission_rate_bps=1000), published_at=day_before
        ),
        product_id=tapped.product_id,
        merchant_id=tapped.merchant_id,
    )
    coder = CreatorFactory(commission_rate_bps=2000, handle="trailqueen")
    coded = ProductTagFactory(
        video=VideoFactory(creator=coder, published_at=day_before),
        product_id=tapped.product_id,
        merchant_id=tapped.merchant_id,
    )
    return tapped, other, coded


def coded_line(tag, creator, *, amount=9000):
    return {
        **paid_line(tag, amount=amount),
        "creator_code": {"code": "TRAILQUEEN10", "creator_id": str(creator.id)},
    }


def credits(line_id, model):
    rows = Credit.objects.filter(sale_line_id=line_id, model=model, refund_id__isnull=True)
    return list(
        rows.order_by("position").values_list(
            "video_id", "touch_type", "amount", "commission_amount"
        )
    )


def test_the_code_wins_last_touch_by_default_and_counts_under_every_model(shop, now):
    tapped, other, coded = shop
    engagement_event("buyer", tapped.video, "tag_tap", now - timedelta(hours=50))
    engagement_event("buyer", other.video, "tag_tap", now - timedelta(hours=2))
    line = coded_line(tapped, coded.video.creator, amount=9000)

    event_consume(envelope=order_paid("buyer", [line], now))

    sale = SaleLine.objects.get()
    assert (sale.code, sale.code_creator_id, sale.touch_count) == (
        "TRAILQUEEN10",
        coded.video.creator_id,
        3,
    )
    v = [tapped.video_id, other.video_id, coded.video_id]
    # The code is a click at the payment: the path's last touch. 20 % of the creator's
    # share of the net 9000.
    assert credits(line["line_id"], "last_touch") == [(v[2], "creator_code", 9000, 1800)]
    assert credits(line["line_id"], "first_touch") == [(v[0], "tag_tap", 9000, 900)]
    assert credits(line["line_id"], "linear") == [
        (v[0], "tag_tap", 3000, 300),
        (v[1], "tag_tap", 3000, 300),
        (v[2], "creator_code", 3000, 600),
    ]
    assert credits(line["line_id"], "position_based") == [
        (v[0], "tag_tap", 3600, 360),
        (v[1], "tag_tap", 1800, 180),
        (v[2], "creator_code", 3600, 720),
    ]
    decay = credits(line["line_id"], "time_decay")
    assert [row[0] for row in decay] == v
    assert decay[2][2] == max(row[2] for row in decay)  # the latest touch weighs the most
    for model in MODELS:
        rows = Credit.objects.filter(sale_line_id=line["line_id"], model=model)
        assert sum(row.amount for row in rows) == 9000
        # Every model but first touch (the earliest tap's) credits the code's creator.
        credited = rows.filter(creator_id=coded.video.creator_id).exists()
        assert credited is (model != "first_touch")


def test_with_tap_wins_the_code_is_the_first_touch_and_the_latest_tap_the_last(shop, now):
    tapped, other, coded = shop
    MerchantAttributionSettings.objects.create(
        merchant_id=tapped.merchant_id, creator_code_rule="tap_wins"
    )
    engagement_event("buyer", tapped.video, "tag_tap", now - timedelta(hours=50))
    engagement_event("buyer", other.video, "tag_tap", now - timedelta(hours=2))
    line = coded_line(tapped, coded.video.creator)

    event_consume(envelope=order_paid("buyer", [line], now))

    v = [coded.video_id, tapped.video_id, other.video_id]
    assert [row[0] for row in credits(line["line_id"], "last_touch")] == [v[2]]
    assert credits(line["line_id"], "first_touch") == [(v[0], "creator_code", 9000, 1800)]
    coded_credit = Credit.objects.get(
        sale_line_id=line["line_id"], model="first_touch", video_id=v[0]
    )
    assert coded_credit.touched_at == now - timedelta(days=7)  # the click window's start
    for model in ("linear", "position_based", "time_decay"):
        assert [row[0] for row in credits(line["line_id"], model)] == v


@pytest.mark.parametrize("rule", ["code_wins", "tap_wins"])
def test_a_code_alone_credits_its_creator_everything_under_every_model(shop, now, rule):
    tapped, _, coded = shop
    MerchantAttributionSettings.objects.create(
        merchant_id=tapped.merchant_id, creator_code_rule=rule
    )
    line = coded_line(tapped, coded.video.creator, amount=4550)

    event_consume(envelope=order_paid("buyer", [line], now))

    for model in MODELS:
        # Commission on the line's amount, the net after the code's discount: 20 % of 4550.
        assert credits(line["line_id"], model) == [(coded.video_id, "creator_code", 4550, 910)]


def test_the_code_goes_to_the_creators_latest_published_video_tagging_the_product(shop, now):
    tapped, _, coded = shop
    creator = coded.video.creator
    newer = ProductTagFactory(
        video=VideoFactory(creator=creator, published_at=now - timedelta(hours=3)),
        product_id=tapped.product_id,
        merchant_id=tapped.merchant_id,
    )
    for video in (
        VideoFactory(creator=creator, status=Video.Status.DRAFT, published_at=None),
        VideoFactory(creator=creator, published_at=now + timedelta(hours=1)),  # after paying
    ):
        ProductTagFactory(video=video, product_id=tapped.product_id, merchant_id=tapped.merchant_id)
    VideoFactory(creator=creator, published_at=now - timedelta(hours=1))  # tags nothing
    line = coded_line(tapped, creator)

    event_consume(envelope=order_paid("buyer", [line], now))

    assert [row[0] for row in credits(line["line_id"], "last_touch")] == [newer.video_id]


def test_a_code_whose_creator_has_no_video_of_the_product_credits_nobody(shop, now):
    tapped, _, _ = shop
    line = coded_line(tapped, CreatorFactory())

    event_consume(envelope=order_paid("buyer", [line], now))

    assert credits(line["line_id"], "last_touch") == [(None, "", 9000, 0)]
    assert SaleLine.objects.get().touch_count == 0


def test_a_full_refund_nets_the_codes_credits_to_zero_under_every_model(shop, now):
    tapped, other, coded = shop
    engagement_event("buyer", other.video, "tag_tap", now - timedelta(hours=2))
    line = coded_line(tapped, coded.video.creator, amount=9001)
    paid = order_paid("buyer", [line], now)
    event_consume(envelope=paid)

    event_consume(envelope=order_refunded(paid, {line["line_id"]: 4000}, now + timedelta(days=1)))
    event_consume(envelope=order_refunded(paid, {line["line_id"]: 5001}, now + timedelta(days=2)))

    for model in MODELS:
        nets = (
            Credit.objects.filter(sale_line_id=line["line_id"], model=model)
            .values("position")
            .annotate(amount=Sum("amount"), commission=Sum("commission_amount"))
        )
        assert {(row["amount"], row["commission"]) for row in nets} == {(0, 0)}
    assert Credit.objects.filter(
        creator_id=coded.video.creator_id, refund_id__isnull=False
    ).exists()


def test_a_creators_own_code_on_their_own_purchase_earns_nothing(shop, now):
    tapped, _, coded = shop
    creator = coded.video.creator
    line = coded_line(tapped, creator)

    event_consume(envelope=order_paid(creator.user_id, [line], now))

    for model in MODELS:
        credit = Credit.objects.get(sale_line_id=line["line_id"], model=model)
        assert (credit.video_id, credit.amount, credit.commission_amount) == (
            coded.video_id,
            9000,
            0,
        )
        assert credit.is_self_purchase
