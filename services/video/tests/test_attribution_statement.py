"""The attribution statement against its reference: `lines_attribute` computes paths,
splits and commissions in SQL; `attribution.allocation` says what they must be. Random
paths (ties in time, repeats of one video, views and clicks, both windows' edges, cart
sources, product rates) must give the very rows the Python rules give."""

from __future__ import annotations

import random
import uuid
from datetime import timedelta

import pytest
from django.utils import timezone

from attribution.allocation import (
    Touch,
    commission,
    largest_remainder,
    model_weights,
    touches_eligible,
)
from attribution.models import (
    AttributionModel,
    Credit,
    MerchantAttributionSettings,
    ProductCommissionRate,
    SaleLine,
)
from attribution.services import lines_attribute
from engagement.models import EngagementEvent
from tests.factories import CreatorFactory, ProductTagFactory, VideoFactory

pytestmark = pytest.mark.django_db
TYPES = ["impression", "view", "view", "tag_tap", "product_view", "add_to_cart"]


def expected_credits(line: SaleLine, touches: list[Touch], windows: tuple, videos: dict, rate):
    """The rows the Python rules give for one line: (model, position, video, creator,
    type, touched_at, amount, rate, commission)."""
    path = touches_eligible(
        touches, paid_at=line.paid_at, click_window=windows[0], view_window=windows[1]
    )
    if not path:
        return len(path), {
            (model, 0, None, None, "", None, line.amount, 0, 0) for model in AttributionModel.values
        }
    rows = set()
    for model in AttributionModel.values:
        weights = model_weights(model, path, paid_at=line.paid_at)
        for position, (touch, weight, amount) in enumerate(
            zip(path, weights, largest_remainder(line.amount, weights), strict=True)
        ):
            if not weight:
                continue
            creator_id, creator_rate = videos.get(touch.video_id, (None, 0))
            bps = creator_rate if rate is None or creator_id is None else rate
            rows.add(
                (
                    model,
                    position,
                    touch.video_id,
                    creator_id,
                    touch.type,
                    touch.occurred_at,
                    amount,
                    bps,
                    commission(amount, bps),
                )
            )
    return len(path), rows


@pytest.mark.parametrize("seed", range(6))
def test_the_statement_gives_the_rows_the_python_rules_give(seed):
    rng = random.Random(seed)
    now = timezone.now()
    product_id, merchant_id = uuid.uuid4(), uuid.uuid4()
    videos = [
        VideoFactory(creator=CreatorFactory(commission_rate_bps=rng.choice([0, 333, 1550])))
        for _ in range(4)
    ]
    for video in videos[:3]:  # the fourth does not tag the product
        ProductTagFactory(video=video, product_id=product_id, merchant_id=merchant_id)
    if seed % 2:
        ProductCommissionRate.objects.create(
            product_id=product_id, merchant_id=merchant_id, rate_bps=777
        )
        rate = 777
    else:
        rate = None
    windows = (timedelta(days=rng.choice([0, 2, 7])), timedelta(hours=rng.choice([0, 6, 24])))
    if seed % 3:
        MerchantAttributionSettings.objects.create(
            merchant_id=merchant_id, click_window=windows[0], view_window=windows[1]
        )
    else:
        windows = (timedelta(days=7), timedelta(days=1))
    creators = {video.id: (video.creator_id, video.creator.commission_rate_bps) for video in videos}

    times = [now - timedelta(seconds=rng.randrange(0, 9 * 86400)) for _ in range(6)]
    times += [now - windows[0], now - windows[1], now]  # the windows' edges
    events: dict[str, list[Touch]] = {}
    for user in ("a", "b", "c", "d"):
        for _ in range(rng.randrange(0, 14)):
            touch = Touch(
                rng.choice(times) + timedelta(microseconds=rng.choice([0, 0, 1, 999])),
                rng.choice(videos).id,
                rng.choice(TYPES),
            )
            EngagementEvent.objects.create(
                event_id=uuid.uuid4(),
                user_id=user,
                type=touch.type,
                video_id=touch.video_id,
                occurred_at=touch.occurred_at,
            )
            if touch.type != "impression" and touch.video_id != videos[3].id:
                events.setdefault(user, []).append(touch)

    lines = []
    for user in ("a", "b", "c", "d", "e"):
        source = rng.choice([None, videos[0], videos[3]])
        lines.append(
            SaleLine(
                line_id=uuid.uuid4(),
                order_id=uuid.uuid4(),
                user_id=user,
                merchant_id=merchant_id,
                product_id=product_id,
                variant_id=uuid.uuid4(),
                quantity=1,
                amount=rng.choice([1, 7, 999, 10_000, 2_147_483_647]),
                currency="EUR",
                paid_at=now,
                source_video_id=source.id if source else None,
                source_added_at=rng.choice(times) if source else None,
            )
        )
    SaleLine.objects.bulk_create(lines)

    written = lines_attribute(lines)

    total = 0
    for line in lines:
        touches = list(events.get(line.user_id, []))
        if line.source_video_id:
            touches.append(Touch(line.source_added_at, line.source_video_id, "cart_line"))
        touch_count, expected = expected_credits(line, touches, windows, creators, rate)
        stored = set(
            Credit.objects.filter(sale_line=line).values_list(
                "model",
                "position",
                "video_id",
                "creator_id",
                "touch_type",
                "touched_at",
                "amount",
                "commission_rate_bps",
                "commission_amount",
            )
        )
        assert stored == expected
        assert SaleLine.objects.get(pk=line.pk).touch_count == line.touch_count == touch_count
        total += len(expected)
    assert written == total
    assert lines_attribute(lines) == 0  # written once: a second pass adds nothing
