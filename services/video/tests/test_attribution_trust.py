"""Commission only for sales a creator's video really drove (issue 12): at credit time a
touch counts only on a published video tagging the product, a cart line's source also
needs its tag to be that video's tag of the product, and a creator's own purchase through
their video is credited at a rate of zero, marked self-purchase. Through the real
statement (`order.paid` consumed); `test_attribution_statement` holds it to the Python
rules on random paths."""

from __future__ import annotations

import uuid
from datetime import timedelta

import pytest
from django.utils import timezone

from attribution.models import AttributionModel, Credit, SaleLine
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


@pytest.fixture
def now():
    return timezone.now().replace(microsecond=0)


@pytest.fixture
def tag():
    return ProductTagFactory(video=VideoFactory(creator=CreatorFactory(commission_rate_bps=1000)))


def _last_touch(line):
    return Credit.objects.get(sale_line_id=line["line_id"], model="last_touch", refund_id=None)


def _paid_with_source(now, tag, source_video, source_tag_id, buyer="buyer"):
    line = paid_line(tag, amount=10_000)
    line["source"] = {
        "video_id": str(source_video.id),
        "tag_id": str(source_tag_id) if source_tag_id else None,
        "added_at": (now - timedelta(hours=1)).isoformat(),
    }
    event_consume(envelope=order_paid(buyer, [line], now))
    return line


def test_a_source_that_tags_the_product_is_credited(tag, now):
    line = _paid_with_source(now, tag, tag.video, tag.id)

    credit = _last_touch(line)
    assert (credit.video_id, credit.touch_type, credit.commission_amount) == (
        tag.video_id,
        "cart_line",
        1000,
    )
    assert credit.is_self_purchase is False


def test_a_source_video_that_does_not_tag_the_product_gets_nothing(tag, now):
    elsewhere = ProductTagFactory()  # a published video tagging another product

    line = _paid_with_source(now, tag, elsewhere.video, elsewhere.id)
    without_tag = _paid_with_source(now, tag, elsewhere.video, None)

    for paid in (line, without_tag):
        credit = _last_touch(paid)
        assert (credit.video_id, credit.amount, credit.commission_amount) == (None, 10_000, 0)
        assert SaleLine.objects.get(line_id=paid["line_id"]).touch_count == 0


def test_a_source_whose_tag_is_not_that_videos_tag_of_the_product_gets_nothing(tag, now):
    same_product_elsewhere = ProductTagFactory(
        product_id=tag.product_id, merchant_id=tag.merchant_id
    )
    other_product_same_video = ProductTagFactory(video=tag.video)

    for tag_id in (same_product_elsewhere.id, other_product_same_video.id, uuid.uuid4()):
        line = _paid_with_source(now, tag, tag.video, tag_id)
        assert _last_touch(line).video_id is None, tag_id


def test_an_unknown_source_video_gets_nothing(tag, now):
    line = paid_line(tag, amount=10_000)
    line["source"] = {"video_id": str(uuid.uuid4()), "tag_id": None, "added_at": now.isoformat()}

    event_consume(envelope=order_paid("buyer", [line], now))

    assert _last_touch(line).video_id is None


@pytest.mark.parametrize("status", [Video.Status.DRAFT, Video.Status.REMOVED])
def test_a_video_not_published_earns_nothing_from_its_source_or_events(tag, now, status):
    hidden = ProductTagFactory(
        video=VideoFactory(status=status, published_at=None),
        product_id=tag.product_id,
        merchant_id=tag.merchant_id,
    )
    engagement_event("buyer", hidden.video, "tag_tap", now - timedelta(hours=2))
    engagement_event("other", hidden.video, "tag_tap", now - timedelta(hours=2))
    engagement_event("other", tag.video, "view", now - timedelta(hours=3))

    line = _paid_with_source(now, tag, hidden.video, hidden.id)
    event_consume(envelope=order_paid("other", [other := paid_line(tag)], now))

    assert _last_touch(line).video_id is None
    # The view on the published video counts; the later tap on the hidden one does not.
    assert _last_touch(other).video_id == tag.video_id
    assert _last_touch(other).touch_type == "view"


def test_a_creator_buying_through_their_own_video_is_credited_with_no_commission(tag, now):
    creator_user = tag.video.creator.user_id
    other = ProductTagFactory(
        video=VideoFactory(creator=CreatorFactory(commission_rate_bps=1000)),
        product_id=tag.product_id,
        merchant_id=tag.merchant_id,
    )
    engagement_event(creator_user, other.video, "tag_tap", now - timedelta(hours=3))

    line = _paid_with_source(now, tag, tag.video, tag.id, buyer=creator_user)

    rows = {
        credit.video_id: credit
        for credit in Credit.objects.filter(sale_line_id=line["line_id"], model="linear")
    }
    own, theirs = rows[tag.video_id], rows[other.video_id]
    assert (own.amount, own.commission_rate_bps, own.commission_amount) == (5000, 0, 0)
    assert own.is_self_purchase is True
    # Another creator's video in the same path still earns its commission.
    assert (theirs.amount, theirs.commission_amount, theirs.is_self_purchase) == (5000, 500, False)
    for model in AttributionModel.values:
        for credit in Credit.objects.filter(
            sale_line_id=line["line_id"], model=model, video_id=tag.video_id
        ):
            assert (credit.commission_amount, credit.is_self_purchase) == (0, True)


def test_a_refund_of_a_self_purchase_reverses_the_credit_marked_and_with_no_commission(tag, now):
    creator_user = tag.video.creator.user_id
    line = paid_line(tag, amount=10_000)
    line["source"] = {"video_id": str(tag.video_id), "tag_id": str(tag.id), "added_at": None}
    paid = order_paid(creator_user, [line], now)
    event_consume(envelope=paid)

    event_consume(envelope=order_refunded(paid, {line["line_id"]: 10_000}, now))

    reversal = Credit.objects.get(
        sale_line_id=line["line_id"], model="last_touch", refund_id__isnull=False
    )
    assert (reversal.amount, reversal.commission_amount, reversal.is_self_purchase) == (
        -10_000,
        0,
        True,
    )
