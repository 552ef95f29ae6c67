"""The arithmetic of attribution: windows, models, splits and commission (no database)."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta

import pytest

from attribution.allocation import (
    Touch,
    commission,
    model_weights,
    touches_eligible,
)
from attribution.models import AttributionModel
from clipcart_shared.money import allocate

PAID = datetime(2026, 11, 20, 12, 0, tzinfo=UTC)
DAY = timedelta(days=1)
WEEK = timedelta(days=7)
VIDEOS = [uuid.UUID(int=n) for n in range(1, 10)]


def touch(video: int, ago: timedelta, kind: str = "tag_tap") -> Touch:
    return Touch(PAID - ago, VIDEOS[video], kind)


def split(model: str, total: int, path: list[Touch]) -> list[int]:
    return allocate(total, model_weights(model, path, paid_at=PAID))


def eligible(touches: list[Touch], click: timedelta = WEEK, view: timedelta = DAY) -> list[Touch]:
    return touches_eligible(touches, paid_at=PAID, click_window=click, view_window=view)


# The worked examples.


def test_time_decay_worked_example():
    path = eligible(
        [touch(0, 28 * DAY), touch(1, 14 * DAY), touch(2, 7 * DAY), touch(3, timedelta(0))],
        click=30 * DAY,
    )
    assert split(AttributionModel.TIME_DECAY, 10_000, path) == [345, 1379, 2759, 5517]


def test_position_based_worked_example_five_touches():
    path = [touch(n, timedelta(hours=5 - n)) for n in range(5)]
    assert split(AttributionModel.POSITION_BASED, 10_000, path) == [4000, 667, 667, 666, 4000]


def test_linear_worked_example_three_touches():
    path = [touch(n, timedelta(hours=3 - n)) for n in range(3)]
    assert split(AttributionModel.LINEAR, 1000, path) == [334, 333, 333]


def test_commission_worked_example_and_half_up():
    assert commission(4000, 1550) == 620
    assert commission(1, 5000) == 1  # 0.5 rounds up
    assert commission(1, 4999) == 0
    assert commission(3, 5000) == 2  # 1.5 rounds up
    assert commission(0, 1550) == 0
    assert commission(10_000, 10_000) == 10_000


# Each model's edge cases.


@pytest.mark.parametrize("model", AttributionModel.values)
def test_one_touch_takes_everything_in_every_model(model):
    assert split(model, 2599, [touch(0, DAY)]) == [2599]


@pytest.mark.parametrize(
    ("model", "expected"),
    [
        (AttributionModel.LAST_TOUCH, [0, 1001]),
        (AttributionModel.FIRST_TOUCH, [1001, 0]),
        (AttributionModel.LINEAR, [501, 500]),  # the tie goes to the earlier touch
        (AttributionModel.POSITION_BASED, [501, 500]),  # two touches: 50/50
    ],
)
def test_two_touches(model, expected):
    assert split(model, 1001, [touch(0, 2 * DAY), touch(1, DAY)]) == expected


def test_time_decay_halves_per_week():
    path = [touch(0, WEEK), touch(1, timedelta(0))]
    weights = model_weights(AttributionModel.TIME_DECAY, path, paid_at=PAID)
    assert weights[1] == 2 * weights[0]
    assert split(AttributionModel.TIME_DECAY, 300, path) == [100, 200]


def test_position_based_three_touches_gives_the_middle_twenty_percent():
    path = [touch(n, timedelta(hours=3 - n)) for n in range(3)]
    assert split(AttributionModel.POSITION_BASED, 1000, path) == [400, 200, 400]


@pytest.mark.parametrize("model", AttributionModel.values)
@pytest.mark.parametrize("total", [0, 1, 7, 999, 10_001, 2_147_483_647])
@pytest.mark.parametrize("count", [1, 2, 3, 7, 13])
def test_credits_always_add_up_to_the_amount(model, total, count):
    path = [touch(n % 9, timedelta(hours=count - n, minutes=n)) for n in range(count)]
    parts = split(model, total, path)
    assert sum(parts) == total
    assert all(part >= 0 for part in parts)


# Eligibility.


def test_a_touch_exactly_at_the_window_edge_counts_and_a_second_older_does_not():
    edge = touch(0, WEEK)
    older = touch(1, WEEK + timedelta(seconds=1))
    assert eligible([edge, older]) == [edge]
    view_edge = touch(2, DAY, "view")
    view_older = touch(3, DAY + timedelta(seconds=1), "view")
    assert eligible([view_edge, view_older]) == [view_edge]


def test_a_touch_after_payment_does_not_count():
    assert eligible([touch(0, -timedelta(seconds=1))]) == []


def test_views_only_use_the_view_window():
    recent, old = touch(0, timedelta(hours=2), "view"), touch(1, 2 * DAY, "view")
    assert eligible([recent, old]) == [recent]


def test_clicks_beat_views():
    click = touch(0, 3 * DAY)
    view = touch(1, timedelta(hours=1), "view")
    assert eligible([view, click]) == [click]


def test_views_count_when_no_click_is_inside_its_window():
    stale_click = touch(0, 8 * DAY)
    view = touch(1, timedelta(hours=1), "view")
    assert eligible([stale_click, view]) == [view]


def test_impressions_are_not_touches():
    assert eligible([touch(0, DAY, "impression")]) == []


def test_a_cart_line_source_is_a_click():
    source = touch(0, DAY, "cart_line")
    view = touch(1, timedelta(hours=1), "view")
    assert eligible([view, source]) == [source]


def test_consecutive_touches_on_one_video_count_once_as_the_latest():
    first_run = [touch(0, 5 * DAY), touch(0, 4 * DAY, "product_view")]
    other = touch(1, 3 * DAY)
    second_run = [touch(0, 2 * DAY), touch(0, DAY, "add_to_cart")]
    path = eligible([*second_run, other, *first_run])
    assert path == [first_run[1], other, second_run[1]]


def test_unknown_model_is_refused():
    with pytest.raises(ValueError):
        model_weights("most_liked", [touch(0, DAY)], paid_at=PAID)
