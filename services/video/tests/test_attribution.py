"""Attribution from checkout's order events: credits per model, commission, refunds,
idempotent and concurrent delivery, held refunds, and rebuilding."""

from __future__ import annotations

import io
import threading
from datetime import timedelta

import pytest
from django.core.management import CommandError, call_command
from django.db import connections
from django.db.models import Sum
from django.utils import timezone

from attribution.models import (
    AttributionModel,
    Credit,
    MerchantAttributionSettings,
    ProductCommissionRate,
    RefundReceived,
    SaleLine,
)
from attribution.services import attribution_recompute
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

pytestmark = pytest.mark.django_db
MODELS = AttributionModel.values


@pytest.fixture
def now():
    return timezone.now().replace(microsecond=0)


@pytest.fixture
def tags():
    """Three videos by three creators, all tagging one product."""
    first = ProductTagFactory(video=VideoFactory(creator=CreatorFactory(commission_rate_bps=1550)))
    rest = [
        ProductTagFactory(
            video=VideoFactory(creator=CreatorFactory(commission_rate_bps=1000)),
            product_id=first.product_id,
            merchant_id=first.merchant_id,
        )
        for _ in range(2)
    ]
    return [first, *rest]


def credits(line_id, model, *, refunds=False):
    rows = Credit.objects.filter(sale_line_id=line_id, model=model)
    rows = rows if refunds else rows.filter(refund_id__isnull=True)
    return list(rows.order_by("position", "occurred_at").values_list("video_id", "amount"))


def net_by_position(line_id, model):
    return dict(
        Credit.objects.filter(sale_line_id=line_id, model=model)
        .values_list("position")
        .annotate(amount=Sum("amount"), commission=Sum("commission_amount"))
        .values_list("position", "amount")
    )


def test_a_paid_line_is_credited_under_every_model_and_adds_up(tags, now):
    for hours, tag in zip([50, 30, 2], tags, strict=True):
        engagement_event("buyer", tag.video, "tag_tap", now - timedelta(hours=hours))
    paid = order_paid("buyer", [line := paid_line(tags[0], amount=10_000)], now)

    assert event_consume(envelope=paid) is True

    sale = SaleLine.objects.get()
    assert (sale.touch_count, sale.amount, sale.user_id) == (3, 10_000, "buyer")
    videos = [tag.video_id for tag in tags]
    assert credits(line["line_id"], "last_touch") == [(videos[2], 10_000)]
    assert credits(line["line_id"], "first_touch") == [(videos[0], 10_000)]
    assert credits(line["line_id"], "linear") == [
        (videos[0], 3334),
        (videos[1], 3333),
        (videos[2], 3333),
    ]
    assert credits(line["line_id"], "position_based") == [
        (videos[0], 4000),
        (videos[1], 2000),
        (videos[2], 4000),
    ]
    for model in MODELS:
        assert sum(amount for _, amount in credits(line["line_id"], model)) == 10_000
    first = Credit.objects.get(sale_line_id=line["line_id"], model="first_touch")
    assert first.creator_id == tags[0].video.creator_id
    assert (first.commission_rate_bps, first.commission_amount) == (1550, 1550)


def test_commission_uses_the_merchants_product_rate_over_the_creators(tags, now):
    ProductCommissionRate.objects.create(
        product_id=tags[0].product_id, merchant_id=tags[0].merchant_id, rate_bps=1550
    )
    engagement_event("buyer", tags[1].video, "tag_tap", now - timedelta(hours=1))
    event_consume(envelope=order_paid("buyer", [paid_line(tags[0], amount=4000)], now))

    credit = Credit.objects.get(model="last_touch")
    assert (credit.video_id, credit.commission_rate_bps, credit.commission_amount) == (
        tags[1].video_id,
        1550,
        620,
    )


def test_a_line_without_an_eligible_touch_is_unattributed_but_counted(tags, now):
    engagement_event("buyer", tags[0].video, "tag_tap", now - timedelta(days=8))
    engagement_event("someone-else", tags[0].video, "tag_tap", now - timedelta(hours=1))
    other_product = ProductTagFactory(video=tags[1].video)
    engagement_event("buyer", other_product.video, "impression", now - timedelta(hours=1))
    line = paid_line(tags[0], amount=2500)

    event_consume(envelope=order_paid("buyer", [line], now))

    assert SaleLine.objects.get().touch_count == 0
    for model in MODELS:
        assert credits(line["line_id"], model) == [(None, 2500)]
    assert Credit.objects.filter(commission_amount__gt=0).count() == 0


def test_only_videos_tagging_the_product_are_touches(tags, now):
    unrelated = ProductTagFactory()  # another product on another video
    engagement_event("buyer", unrelated.video, "tag_tap", now - timedelta(hours=1))
    engagement_event("buyer", tags[2].video, "view", now - timedelta(hours=3))
    line = paid_line(tags[0])

    event_consume(envelope=order_paid("buyer", [line], now))

    assert credits(line["line_id"], "linear") == [(tags[2].video_id, 10_000)]


def test_the_cart_line_source_counts_as_a_click_without_any_event(tags, now):
    engagement_event("buyer", tags[0].video, "view", now - timedelta(hours=1))
    line = paid_line(tags[0], source=tags[1], added_at=now - timedelta(hours=2))

    event_consume(envelope=order_paid("buyer", [line], now))

    # The click beats the later view.
    assert credits(line["line_id"], "last_touch") == [(tags[1].video_id, 10_000)]
    assert Credit.objects.get(model="last_touch").touch_type == "cart_line"


def test_a_merchants_windows_apply_to_its_lines(tags, now):
    MerchantAttributionSettings.objects.create(
        merchant_id=tags[0].merchant_id, click_window=timedelta(days=30)
    )
    engagement_event("buyer", tags[0].video, "tag_tap", now - timedelta(days=20))
    line = paid_line(tags[0])

    event_consume(envelope=order_paid("buyer", [line], now))

    assert credits(line["line_id"], "last_touch") == [(tags[0].video_id, 10_000)]


def test_the_same_event_twice_and_the_same_order_republished_credit_once(tags, now):
    engagement_event("buyer", tags[0].video, "tag_tap", now - timedelta(hours=1))
    paid = order_paid("buyer", [paid_line(tags[0]), paid_line(tags[1], amount=500)], now)

    assert event_consume(envelope=paid) is True
    assert event_consume(envelope=paid) is False
    republished = {**paid, "id": "7d1c1f5e-0000-4000-8000-000000000001"}
    assert event_consume(envelope=republished) is True

    assert SaleLine.objects.count() == 2
    assert Credit.objects.count() == 2 * len(MODELS)


def test_a_partial_then_full_refund_reverses_in_proportion_and_nets_to_zero(tags, now):
    for hours, tag in zip([3, 2, 1], tags, strict=True):
        engagement_event("buyer", tag.video, "product_view", now - timedelta(hours=hours))
    line = paid_line(tags[0], amount=1000)
    paid = order_paid("buyer", [line], now)
    event_consume(envelope=paid)

    partial = order_refunded(paid, {line["line_id"]: 300}, now + timedelta(days=1))
    event_consume(envelope=partial)

    for model in MODELS:
        reversal = Credit.objects.filter(
            sale_line_id=line["line_id"], model=model, refund_id__isnull=False
        )
        assert sum(row.amount for row in reversal) == -300
        assert all(row.occurred_at == now + timedelta(days=1) for row in reversal)
    # Linear 334/333/333 keeps 700 split the same way: 234/233/233.
    assert list(net_by_position(line["line_id"], "linear").values()) == [234, 233, 233]
    commission = Credit.objects.filter(model="linear", position=0).aggregate(
        net=Sum("commission_amount")
    )["net"]
    assert commission == round(234 * 0.155)  # 36.27 → 36

    rest = order_refunded(paid, {line["line_id"]: 700}, now + timedelta(days=2))
    event_consume(envelope=rest)

    for model in MODELS:
        nets = (
            Credit.objects.filter(sale_line_id=line["line_id"], model=model)
            .values("position")
            .annotate(amount=Sum("amount"), commission=Sum("commission_amount"))
        )
        assert {(row["amount"], row["commission"]) for row in nets} == {(0, 0)}
    # Nothing was changed in place: the sale's own rows are as they were written.
    assert credits(line["line_id"], "linear") == [
        (tags[0].video_id, 334),
        (tags[1].video_id, 333),
        (tags[2].video_id, 333),
    ]


def test_a_refund_of_an_unattributed_line_reverses_it_too(tags, now):
    line = paid_line(tags[0], amount=800)
    paid = order_paid("buyer", [line], now)
    event_consume(envelope=paid)
    event_consume(envelope=order_refunded(paid, {line["line_id"]: 800}, now))

    assert Credit.objects.filter(refund_id__isnull=False).count() == len(MODELS)
    assert Credit.objects.aggregate(total=Sum("amount"))["total"] == 0


def test_a_refund_arriving_before_its_payment_is_held_then_applied_once(tags, now):
    engagement_event("buyer", tags[0].video, "tag_tap", now - timedelta(hours=1))
    line = paid_line(tags[0], amount=1000)
    paid = order_paid("buyer", [line], now)
    refund = order_refunded(paid, {line["line_id"]: 400}, now + timedelta(minutes=5))

    event_consume(envelope=refund)
    assert Credit.objects.count() == 0
    assert RefundReceived.objects.get().applied_at is None

    event_consume(envelope=paid)
    event_consume(envelope=refund)  # redelivered: nothing more

    assert RefundReceived.objects.get().applied_at is not None
    assert net_by_position(line["line_id"], "last_touch") == {0: 600}
    assert Credit.objects.filter(refund_id__isnull=False).count() == len(MODELS)


def test_a_refund_naming_an_unknown_line_reverses_only_the_known_ones(tags, now):
    line = paid_line(tags[0], amount=1000)
    paid = order_paid("buyer", [line], now)
    event_consume(envelope=paid)
    refund = order_refunded(
        paid, {line["line_id"]: 100, "5d5f6a8e-1111-4111-8111-111111111111": 50}, now
    )

    event_consume(envelope=refund)

    assert net_by_position(line["line_id"], "last_touch") == {0: 900}


def _deliver_at_once(envelopes):
    barrier = threading.Barrier(len(envelopes))
    errors = []

    def deliver(envelope):
        try:
            barrier.wait()
            event_consume(envelope=envelope)
        except Exception as error:  # pragma: no cover - reported below
            errors.append(error)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=deliver, args=(envelope,)) for envelope in envelopes]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []


@pytest.mark.django_db(transaction=True)
def test_concurrent_duplicates_of_paid_and_refunded_credit_once(tags, now):
    engagement_event("buyer", tags[0].video, "tag_tap", now - timedelta(hours=1))
    line = paid_line(tags[0], amount=1000)
    paid = order_paid("buyer", [line], now)
    republished = {**paid, "id": "7d1c1f5e-0000-4000-8000-000000000002"}
    refund = order_refunded(paid, {line["line_id"]: 250}, now + timedelta(hours=1))

    _deliver_at_once([paid, paid, republished, refund, refund, paid])

    assert SaleLine.objects.count() == 1
    assert Credit.objects.filter(refund_id__isnull=True).count() == len(MODELS)
    assert Credit.objects.filter(refund_id__isnull=False).count() == len(MODELS)
    assert net_by_position(line["line_id"], "last_touch") == {0: 750}


def test_recompute_rebuilds_the_same_rows(tags, now):
    for hours, tag in zip([30, 20, 2], tags, strict=True):
        engagement_event("buyer", tag.video, "tag_tap", now - timedelta(hours=hours))
    lines = [paid_line(tags[0], amount=999), paid_line(tags[1], amount=12_345, quantity=3)]
    paid = order_paid("buyer", lines, now)
    event_consume(envelope=paid)
    event_consume(envelope=order_refunded(paid, {lines[1]["line_id"]: 1000}, now))
    fields = [
        "sale_line_id",
        "model",
        "position",
        "refund_id",
        "video_id",
        "creator_id",
        "amount",
        "commission_amount",
        "occurred_at",
    ]
    before = sorted(map(str, Credit.objects.values_list(*fields)))

    today = now.date()
    assert attribution_recompute(start=today - timedelta(days=1), end=today) == 1

    assert sorted(map(str, Credit.objects.values_list(*fields))) == before
    assert len(before) > 2 * len(MODELS)


def test_recompute_applies_changed_settings_and_skips_orders_outside_the_range(tags, now):
    engagement_event("buyer", tags[0].video, "tag_tap", now - timedelta(days=12))
    old_line = paid_line(tags[0])
    event_consume(envelope=order_paid("buyer", [old_line], now - timedelta(days=3)))
    line = paid_line(tags[0])
    event_consume(envelope=order_paid("buyer", [line], now))
    assert credits(line["line_id"], "last_touch") == [(None, 10_000)]

    MerchantAttributionSettings.objects.create(
        merchant_id=tags[0].merchant_id, click_window=timedelta(days=30)
    )
    assert attribution_recompute(start=now.date(), end=now.date()) == 1

    assert credits(line["line_id"], "last_touch") == [(tags[0].video_id, 10_000)]
    assert credits(old_line["line_id"], "last_touch") == [(None, 10_000)]


def test_the_recompute_command_reports_and_refuses_bad_dates(tags, now):
    event_consume(envelope=order_paid("buyer", [paid_line(tags[0])], now))
    out = io.StringIO()
    day = now.date().isoformat()

    call_command("attribution_recompute", "--from", day, "--to", day, stdout=out)

    assert "for 1 orders" in out.getvalue()
    assert Credit.objects.count() == len(MODELS)
    with pytest.raises(CommandError, match="not a date"):
        call_command("attribution_recompute", "--from", "yesterday", "--to", day)
    with pytest.raises(CommandError, match="after"):
        call_command("attribution_recompute", "--from", day, "--to", "2020-01-01")
