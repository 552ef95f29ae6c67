"""Credits stored compact (issue 18): one `CreditTouch` row per (line, touch, refund) with
the five models as columns, `Credit` a read-only view giving one row per model. The
constraints refuse what the shape must never hold, and the migration's SQL moves credits
stored the old way (one row per model) into it, renaming the balance entries that name
them."""

from __future__ import annotations

import importlib
import uuid
from datetime import timedelta

import pytest
from django.db import IntegrityError, connection, transaction
from django.utils import timezone

from attribution.models import Credit, CreditTouch, SaleLine
from attribution.services.credits import MODELS
from clipcart_shared.outbox.services import event_consume
from payouts.models import BalanceEntry
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

MIGRATION = importlib.import_module("attribution.migrations.0007_credit_touches")
FIELDS = ("sale_line_id", "model", "position", "refund_id", "video_id", "amount",
          "commission_amount", "commission_rate_bps", "occurred_at")  # fmt: skip


@pytest.fixture
def paid():
    """A line with a path of two touches (two creators), refunded in part, and an
    unattributed line: credits, reversals and the no-video row."""
    now = timezone.now().replace(microsecond=0)
    first = ProductTagFactory(video=VideoFactory(creator=CreatorFactory(commission_rate_bps=1000)))
    second = ProductTagFactory(
        product_id=first.product_id,
        merchant_id=first.merchant_id,
        video=VideoFactory(creator=CreatorFactory(commission_rate_bps=500)),
    )
    engagement_event("buyer", first.video, "tag_tap", now - timedelta(hours=5))
    engagement_event("buyer", second.video, "tag_tap", now - timedelta(hours=2))
    line = paid_line(first, amount=10_001)
    alone = paid_line(ProductTagFactory(), amount=700)
    envelope = order_paid("buyer", [line, alone], now)
    event_consume(envelope=envelope)
    event_consume(envelope=order_refunded(envelope, {line["line_id"]: 2_999}, now))
    return line, second


def _credits():
    return sorted(map(str, Credit.objects.values_list(*FIELDS)))


def test_five_models_are_one_row_per_touch(paid):
    line, _ = paid
    touches = CreditTouch.objects.filter(sale_line_id=line["line_id"], refund_id=None)
    assert touches.count() == 2
    assert Credit.objects.filter(sale_line_id=line["line_id"], refund_id=None).count() == 8
    first = touches.get(position=0)
    assert first.last_touch_amount is None and first.last_touch_commission is None
    assert first.first_touch_amount == 10_001
    assert CreditTouch.objects.filter(video_id=None).count() == 1
    for model in MODELS:
        net = sum(
            c.amount for c in Credit.objects.filter(sale_line_id=line["line_id"], model=model)
        )
        assert net == 10_001 - 2_999


def test_view_ids_are_unique_and_stable(paid):
    ids = list(Credit.objects.values_list("id", flat=True))
    assert len(ids) == len(set(ids))
    assert sorted(ids) == sorted(Credit.objects.values_list("id", flat=True))


def _touch(line_id, **fields):
    values = dict(
        sale_line_id=line_id, position=9, video_id=uuid.uuid4(), merchant_id=uuid.uuid4(),
        product_id=uuid.uuid4(), currency="EUR", commission_rate_bps=1000,
        occurred_at=timezone.now(), paid_at=timezone.now(), linear_amount=10,
        linear_commission=1,
    )  # fmt: skip
    values.update(fields)
    with transaction.atomic():
        CreditTouch.objects.create(**values)


@pytest.mark.parametrize(
    "fields",
    [
        {"linear_commission": None},  # an amount without its commission
        {"first_touch_commission": 3},  # a commission without its amount
        {"linear_amount": None, "linear_commission": None},  # no model at all
        {"linear_amount": -1},  # a sale credit below zero
        {"time_decay_amount": 5, "time_decay_commission": -1},
        {"commission_rate_bps": 10_001},
        {"is_self_purchase": True},  # a self-purchase earning commission
    ],
)
def test_constraints_refuse_a_bad_row(paid, fields):
    line, _ = paid
    with pytest.raises(IntegrityError):
        _touch(line["line_id"], **fields)


def test_a_touch_is_credited_once(paid):
    line, _ = paid
    with pytest.raises(IntegrityError):
        _touch(line["line_id"], position=0)
    _touch(line["line_id"], position=0, refund_id=uuid.uuid4(), linear_amount=-5)


def test_the_view_cannot_be_written(paid):
    with pytest.raises(Exception), transaction.atomic():  # noqa: B017 (PostgreSQL refuses)
        Credit.objects.filter(model="linear").update(amount=0)


def test_recompute_delete_goes_through_touches(paid):
    line, _ = paid
    CreditTouch.objects.filter(sale_line_id=line["line_id"]).delete()
    assert not Credit.objects.filter(sale_line_id=line["line_id"]).exists()
    assert SaleLine.objects.filter(line_id=line["line_id"]).exists()


def test_the_migration_moves_old_rows_and_renames_balance_entries(paid):
    line, second = paid
    before = _credits()
    assert len(before) == 8 + 8 + 5  # the sale's credits, their reversals, the line alone
    target = Credit.objects.get(sale_line_id=line["line_id"], model="linear", position=1,
                                refund_id=None)  # fmt: skip
    with connection.cursor() as cursor:
        # Back to the old shape: a table of one row per model, with other ids.
        columns = ", ".join(f.column for f in Credit._meta.concrete_fields if f.name != "id")
        cursor.execute(
            "CREATE TABLE attribution_credit_old AS "
            f"SELECT (id * 3 + 7)::bigint AS id, {columns} FROM attribution_credit"
        )
        cursor.execute("DROP VIEW attribution_credit")
        cursor.execute("ALTER TABLE attribution_credit_old RENAME TO attribution_credit")
        cursor.execute("DELETE FROM attribution_credittouch")
    old_key = f"credit:{target.id * 3 + 7}"
    BalanceEntry.objects.create(
        creator_id=second.video.creator_id, merchant_id=target.merchant_id, currency="EUR",
        kind="commission", amount=target.commission_amount, source_key=old_key,
        sale_line_id=target.sale_line_id,
    )  # fmt: skip
    untouched = BalanceEntry.objects.create(
        creator_id=second.video.creator_id, merchant_id=target.merchant_id, currency="EUR",
        kind="payout", amount=-1, source_key="payout:x:y",
    )  # fmt: skip

    with connection.cursor() as cursor:
        cursor.execute(MIGRATION.MOVE)
        cursor.execute(MIGRATION.VIEW)

    assert _credits() == before
    assert CreditTouch.objects.count() == 2 + 2 + 1
    moved = Credit.objects.get(sale_line_id=line["line_id"], model="linear", position=1,
                               refund_id=None)  # fmt: skip
    assert BalanceEntry.objects.filter(source_key=f"credit:{moved.id}").count() == 1
    assert not BalanceEntry.objects.filter(source_key=old_key).exists()
    assert BalanceEntry.objects.get(pk=untouched.pk).source_key == "payout:x:y"
    with pytest.raises(IntegrityError), transaction.atomic():  # still append-only
        BalanceEntry.objects.filter(pk=untouched.pk).update(amount=-2)
