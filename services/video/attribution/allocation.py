"""The arithmetic of attribution, free of the database: which touches count, which are
eligible, how each model weighs them, how an amount is split into whole minor units, and
what commission it earns.

A creator code applied to the order is a click too (`creator_code_touch`).
A touch counts only on a published video that tags the line's product; a cart line's
source also needs its tag, when given, to be that video's tag of that product. A buyer
who is the video's creator earns nothing on their own purchase: the sale is credited
(reports show it, marked self-purchase) at a rate of zero.

Every split goes through `clipcart_shared.money.allocate` (largest remainder), so
credits always add up exactly to the amount split: each part gets the floor of its exact
share, and the units left over go to the largest remainders, ties to the earlier touch.
"""

from __future__ import annotations

import uuid
from collections.abc import Collection, Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from attribution.models import MAX_BPS, AttributionModel

CLICK_TYPES = frozenset({"tag_tap", "product_view", "add_to_cart", "cart_line", "creator_code"})
VIEW_TYPES = frozenset({"view"})
TIME_DECAY_HALF_LIFE = timedelta(days=7)
DECAY_SCALE = 10**15


@dataclass(frozen=True, order=True)
class Touch:
    """A user's touch on a video: an engagement event, or a cart line's source
    (`cart_line`, a click at the time the line was added)."""

    occurred_at: datetime
    video_id: uuid.UUID
    type: str


def creator_code_touch(
    *,
    latest_video_id: uuid.UUID | None,
    paid_at: datetime,
    click_window: timedelta,
    code_wins: bool,
) -> Touch | None:
    """A creator code's touch: a click on the creator's latest video published before
    the payment that tags the product (None: no such video, no touch), at the payment
    when the code wins (the last touch), else at the start of the click window (every
    in-app touch is after it)."""
    if latest_video_id is None:
        return None
    at = paid_at if code_wins else paid_at - click_window
    return Touch(at, latest_video_id, "creator_code")


@dataclass(frozen=True)
class Tag:
    """A product tag on a video, as attribution sees it when it credits."""

    id: uuid.UUID
    video_id: uuid.UUID
    product_id: uuid.UUID


def touch_counts(
    touch: Touch,
    *,
    product_id: uuid.UUID,
    published_tags: Collection[Tag],
    tag_id: uuid.UUID | None = None,
) -> bool:
    """Whether a touch may drive the sale of `product_id`: its video is published (the
    tags given are those of published videos) and tags the product; a cart line's
    source with a tag also needs that tag to be its video's tag of the product."""
    tags = [
        tag
        for tag in published_tags
        if tag.video_id == touch.video_id and tag.product_id == product_id
    ]
    if touch.type == "cart_line" and tag_id is not None:
        return any(tag.id == tag_id for tag in tags)
    return bool(tags)


def commission_rate(
    *, creator_rate_bps: int, product_rate_bps: int | None, is_self_purchase: bool
) -> int:
    """The rate a credit earns, in basis points: the merchant's rate for the product, else
    the creator's own; nothing when the buyer is the video's creator."""
    if is_self_purchase:
        return 0
    return creator_rate_bps if product_rate_bps is None else product_rate_bps


def touches_eligible(
    touches: Iterable[Touch], *, paid_at: datetime, click_window: timedelta, view_window: timedelta
) -> list[Touch]:
    """The touch path of a paid line, oldest first: clicks inside the click window or,
    when there is none, views inside the view window (both ends of a window count);
    consecutive touches on one video count once, as the latest of the run."""
    clicks = [
        touch
        for touch in touches
        if touch.type in CLICK_TYPES and paid_at - click_window <= touch.occurred_at <= paid_at
    ]
    if clicks:
        chosen = clicks
    else:
        chosen = [
            touch
            for touch in touches
            if touch.type in VIEW_TYPES and paid_at - view_window <= touch.occurred_at <= paid_at
        ]
    path: list[Touch] = []
    for touch in sorted(chosen):
        if path and path[-1].video_id == touch.video_id:
            path[-1] = touch
        else:
            path.append(touch)
    return path


def model_weights(model: str, touches: Sequence[Touch], *, paid_at: datetime) -> list[int]:
    """Each touch's weight under `model`, as integers in proportion (exact for every
    model but time decay, whose weights are kept to 15 significant digits)."""
    count = len(touches)
    if count == 0:
        return []
    if model == AttributionModel.LAST_TOUCH:
        return [0] * (count - 1) + [1]
    if model == AttributionModel.FIRST_TOUCH:
        return [1] + [0] * (count - 1)
    if model == AttributionModel.LINEAR:
        return [1] * count
    if model == AttributionModel.TIME_DECAY:
        half_life = TIME_DECAY_HALF_LIFE.total_seconds()
        return [
            round(DECAY_SCALE * 2 ** (-(paid_at - touch.occurred_at).total_seconds() / half_life))
            or 1
            for touch in touches
        ]
    if model == AttributionModel.POSITION_BASED:
        if count <= 2:
            return [1] * count
        # 40 % each end, 20 % shared by the middle: 2(n-2) : 1 : … : 1 : 2(n-2).
        ends = 2 * (count - 2)
        return [ends] + [1] * (count - 2) + [ends]
    raise ValueError(f"Unknown attribution model {model!r}.")


def commission(amount: int, rate_bps: int) -> int:
    """`amount` * `rate_bps` / 10,000, rounded half up to the minor unit (amount ≥ 0)."""
    return (2 * amount * rate_bps + MAX_BPS) // (2 * MAX_BPS)
