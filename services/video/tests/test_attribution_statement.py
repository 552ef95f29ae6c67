"""The attribution statement against its reference: `lines_attribute` computes paths,
splits and commissions in SQL; `attribution.allocation` says what they must be. Random
paths (ties in time, repeats of one video, views and clicks, both windows' edges, cart
sources, product rates; videos not published or not tagging the product, sources whose
tag is another video's or product's, buyers who are the video's creator; creator codes
under either rule, of creators with and without a video of the product) must give the
very rows the Python rules give."""

from __future__ import annotations

import random
import uuid
from datetime import timedelta

import pytest
from django.utils import timezone

from attribution.allocation import (
    Tag,
    Touch,
    commission,
    commission_rate,
    creator_code_touch,
    model_weights,
    touch_counts,
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
from clipcart_shared.money import allocate
from creators.models import Creator
from engagement.models import EngagementEvent
from tests.factories import CreatorFactory, ProductTagFactory, VideoFactory
from videos.models import Video

pytestmark = pytest.mark.django_db
TYPES = ["impression", "view", "view", "tag_tap", "product_view", "add_to_cart"]


def expected_credits(line: SaleLine, touches: list[Touch], windows: tuple, videos: dict, rate):
    """The rows the Python rules give for one line: (model, position, video, creator,
    type, touched_at, amount, rate, commission, self-purchase). `videos` maps a video to
    (creator id, creator rate, creator's user)."""
    path = touches_eligible(
        touches, paid_at=line.paid_at, click_window=windows[0], view_window=windows[1]
    )
    if not path:
        return len(path), {
            (model, 0, None, None, "", None, line.amount, 0, 0, False)
            for model in AttributionModel.values
        }
    rows = set()
    for model in AttributionModel.values:
        weights = model_weights(model, path, paid_at=line.paid_at)
        for position, (touch, weight, amount) in enumerate(
            zip(path, weights, allocate(line.amount, weights), strict=True)
        ):
            if not weight:
                continue
            creator_id, creator_rate, creator_user = videos[touch.video_id]
            is_self_purchase = creator_user == line.user_id
            bps = commission_rate(
                creator_rate_bps=creator_rate,
                product_rate_bps=rate,
                is_self_purchase=is_self_purchase,
            )
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
                    is_self_purchase,
                )
            )
    return len(path), rows


@pytest.mark.parametrize("seed", range(12))
def test_the_statement_gives_the_rows_the_python_rules_give(seed):
    rng = random.Random(seed)
    now = timezone.now()
    product_id, merchant_id = uuid.uuid4(), uuid.uuid4()
    videos = [
        VideoFactory(
            creator=CreatorFactory(commission_rate_bps=rng.choice([0, 333, 1550])),
            published_at=now - timedelta(days=rng.choice([1, 30])),
        )
        for _ in range(4)
    ]
    # The fifth tags the product but is not published (a draft, or taken down).
    hidden = rng.choice([Video.Status.DRAFT, Video.Status.REMOVED])
    videos.append(VideoFactory(status=hidden, published_at=None))
    # Buyer "b" is the creator of the second video: what she buys through it earns nothing.
    Creator.objects.filter(id=videos[1].creator_id).update(user_id="b")
    videos[1].creator.refresh_from_db()
    tags = {
        index: ProductTagFactory(video=video, product_id=product_id, merchant_id=merchant_id)
        for index, video in enumerate(videos)
        if index != 3  # the fourth does not tag the product
    }
    foreign_tag = ProductTagFactory(video=videos[0])  # the first's tag of another product
    published_tags = [
        Tag(tag.id, tag.video_id, tag.product_id)
        for index, tag in [*tags.items(), (0, foreign_tag)]
        if videos[index].status == Video.Status.PUBLISHED
    ]
    if seed % 2:
        ProductCommissionRate.objects.create(
            product_id=product_id, merchant_id=merchant_id, rate_bps=777
        )
        rate = 777
    else:
        rate = None
    windows = (timedelta(days=rng.choice([0, 2, 7])), timedelta(hours=rng.choice([0, 6, 24])))
    code_wins = seed % 4 != 1
    if seed % 3:
        MerchantAttributionSettings.objects.create(
            merchant_id=merchant_id,
            click_window=windows[0],
            view_window=windows[1],
            creator_code_rule="code_wins" if code_wins else "tap_wins",
        )
    else:
        windows = (timedelta(days=7), timedelta(days=1))
        code_wins = True
    creators = {
        video.id: (video.creator_id, video.creator.commission_rate_bps, video.creator.user_id)
        for video in videos
    }

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
            if touch.type != "impression" and touch_counts(
                touch, product_id=product_id, published_tags=published_tags
            ):
                events.setdefault(user, []).append(touch)

    sources = [
        None,
        (videos[0], None),
        (videos[0], tags[0].id),
        (videos[0], foreign_tag.id),  # its tag, but of another product
        (videos[1], tags[1].id),
        (videos[1], tags[0].id),  # another video's tag
        (videos[2], uuid.uuid4()),  # no such tag
        (videos[3], None),  # does not tag the product
        (videos[4], tags[4].id),  # not published
    ]
    # Creator codes: of a creator whose video tags the product, of the buyer "b" herself,
    # of creators whose video does not tag it or is not published, of a creator with none.
    coders = [None, None, *(video.creator_id for video in videos), CreatorFactory().id]
    lines = []
    for user in ("a", "b", "b", "c", "d", "e"):
        source = rng.choice(sources)
        coder = rng.choice(coders)
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
                source_video_id=source[0].id if source else None,
                source_tag_id=source[1] if source else None,
                source_added_at=rng.choice(times) if source else None,
                code="CODE" if coder else "",
                code_creator_id=coder,
            )
        )
    SaleLine.objects.bulk_create(lines)

    written = lines_attribute(lines)

    total = 0
    for line in lines:
        touches = list(events.get(line.user_id, []))
        if line.source_video_id:
            source_touch = Touch(line.source_added_at, line.source_video_id, "cart_line")
            if touch_counts(
                source_touch,
                product_id=product_id,
                published_tags=published_tags,
                tag_id=line.source_tag_id,
            ):
                touches.append(source_touch)
        # The creator's latest video published before the payment tagging the product.
        coded = [
            video
            for index, video in enumerate(videos)
            if video.creator_id == line.code_creator_id
            and index in tags
            and video.status == Video.Status.PUBLISHED
            and video.published_at <= line.paid_at
        ]
        code_touch = creator_code_touch(
            latest_video_id=max(coded, key=lambda v: (v.published_at, v.id)).id if coded else None,
            paid_at=line.paid_at,
            click_window=windows[0],
            code_wins=code_wins,
        )
        if code_touch is not None:
            touches.append(code_touch)
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
                "is_self_purchase",
            )
        )
        assert stored == expected
        assert SaleLine.objects.get(pk=line.pk).touch_count == line.touch_count == touch_count
        total += len(expected)
    assert written == total
    assert lines_attribute(lines) == 0  # written once: a second pass adds nothing
