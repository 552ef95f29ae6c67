"""The arithmetic of attribution, free of the database: which touches are eligible,
how each model weighs them, and how an amount is split into whole minor units.

Every split goes through `largest_remainder`, so credits always add up exactly to the
amount split: each part gets the floor of its exact share, and the units left over go
to the largest remainders, ties to the earlier touch.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from fractions import Fraction

from attribution.models import MAX_BPS, AttributionModel

CLICK_TYPES = frozenset({"tag_tap", "product_view", "add_to_cart", "cart_line"})
VIEW_TYPES = frozenset({"view"})
TIME_DECAY_HALF_LIFE = timedelta(days=7)
POSITION_ENDS_SHARE = Fraction(2, 5)  # first and last each; the middle shares the rest


@dataclass(frozen=True, order=True)
class Touch:
    """A user's touch on a video: an engagement event, or a cart line's source
    (`cart_line`, a click at the time the line was added)."""

    occurred_at: datetime
    video_id: uuid.UUID
    type: str


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


def model_weights(model: str, touches: Sequence[Touch], *, paid_at: datetime) -> list[Fraction]:
    """Each touch's share of the credit under `model` (they add up to 1)."""
    count = len(touches)
    if count == 0:
        return []
    if model == AttributionModel.LAST_TOUCH:
        return [Fraction(0)] * (count - 1) + [Fraction(1)]
    if model == AttributionModel.FIRST_TOUCH:
        return [Fraction(1)] + [Fraction(0)] * (count - 1)
    if model == AttributionModel.LINEAR:
        return [Fraction(1, count)] * count
    if model == AttributionModel.TIME_DECAY:
        half_life = TIME_DECAY_HALF_LIFE.total_seconds()
        raw = [
            Fraction(2 ** (-(paid_at - touch.occurred_at).total_seconds() / half_life))
            for touch in touches
        ]
        total = sum(raw)
        return [weight / total for weight in raw]
    if model == AttributionModel.POSITION_BASED:
        if count <= 2:
            return [Fraction(1, count)] * count
        middle = (1 - 2 * POSITION_ENDS_SHARE) / (count - 2)
        return [POSITION_ENDS_SHARE] + [middle] * (count - 2) + [POSITION_ENDS_SHARE]
    raise ValueError(f"Unknown attribution model {model!r}.")


def largest_remainder(total: int, weights: Sequence[Fraction | int]) -> list[int]:
    """`total` split in proportion to `weights` into integers that add up to `total`:
    floors first, then one unit each to the largest remainders, ties to the earlier."""
    weight_sum = sum(weights)
    if not weights or weight_sum <= 0:
        raise ValueError("Weights must add up to more than zero.")
    exact = [Fraction(total) * weight / weight_sum for weight in weights]
    parts = [share.numerator // share.denominator for share in exact]
    left = total - sum(parts)
    by_remainder = sorted(range(len(exact)), key=lambda index: (parts[index] - exact[index], index))
    for index in by_remainder[:left]:
        parts[index] += 1
    return parts


def commission(amount: int, rate_bps: int) -> int:
    """`amount` * `rate_bps` / 10,000, rounded half up to the minor unit (amount ≥ 0)."""
    return (2 * amount * rate_bps + MAX_BPS) // (2 * MAX_BPS)
