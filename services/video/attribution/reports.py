"""Reading attribution for merchants: the report of sales credited to each video, creator
or product beside their videos' engagement, and the sales per day, for a range of days
and one model (the sums are `attribution.selectors.credit_sums`)."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import UTC, date, timedelta
from typing import Any

from django.db.models import Sum
from django.db.models.functions import TruncDate

from attribution.models import Credit
from attribution.selectors import DayRange, credit_sums
from engagement.selectors import engagement_by_video
from productcards.models import ProductCard
from videos.models import ProductTag, Video

REPORT_GROUPINGS = ("video", "creator", "product")
ENGAGEMENT = ("impressions", "views", "tag_taps")
SALES = ("orders", "units", "sales", "net", "commission", "self_purchases")


@dataclass
class ReportRow:
    """One line of a merchant's report: a video, creator or product (key None: sales no
    video drove), with the engagement of its videos and the sales credited to it."""

    key: uuid.UUID | None
    label: str = "Unattributed"
    impressions: int = 0
    views: int = 0
    tag_taps: int = 0
    orders: int = 0
    units: int = 0
    sales: int = 0
    net: int = 0
    commission: int = 0
    # Net of the sales its creators bought through their own videos (no commission).
    self_purchases: int = 0

    @property
    def refunds(self) -> int:
        return self.sales - self.net

    @property
    def tap_through_rate(self) -> float | None:
        return self.tag_taps / self.impressions if self.impressions else None

    @property
    def conversion_rate(self) -> float | None:
        return self.orders / self.views if self.views else None

    @property
    def net_per_1000_views(self) -> float | None:
        return self.net * 1000 / self.views if self.views else None


@dataclass
class Report:
    days: DayRange
    model: str
    by: str
    currency: str
    rows: list[ReportRow]
    total: ReportRow


def _merchant_where(merchant_ids: list[uuid.UUID] | None) -> tuple[str, dict[str, Any]]:
    if merchant_ids is None:
        return "TRUE", {}
    return "c.merchant_id = ANY(%(merchant_ids)s)", {"merchant_ids": merchant_ids}


def report_currencies(*, merchant_ids: list[uuid.UUID] | None) -> list[str]:
    """The currencies these merchants have sold in, most used first."""
    credits = Credit.objects.all()
    if merchant_ids is not None:
        credits = credits.filter(merchant_id__in=merchant_ids)
    return [
        row["currency"]
        for row in credits.values("currency").annotate(n=Sum("amount")).order_by("-n")[:20]
    ]


def merchant_report(
    *, merchant_ids: list[uuid.UUID] | None, days: DayRange, model: str, by: str, currency: str
) -> Report:
    """Sales credited to each video, creator or product of these merchants (None: all),
    beside the engagement of the videos tagging their products (today's counted live from
    the events). At most six queries."""
    tags = ProductTag.objects.all()
    if merchant_ids is not None:
        tags = tags.filter(merchant_id__in=merchant_ids)
    tagged = list(tags.values_list("video_id", "product_id"))
    videos = Video.objects.select_related("creator").in_bulk({video for video, _ in tagged})
    rows: dict[uuid.UUID | None, ReportRow] = {}
    total = ReportRow(None, label="Total")
    for stats in _engagement(days, list(videos)):
        video = videos[stats["video_id"]]
        if by == "video":
            keys = {video.id}
        elif by == "creator":
            keys = {video.creator_id}
        else:
            keys = {product for tagged_video, product in tagged if tagged_video == video.id}
        for row in [*(rows.setdefault(key, ReportRow(key)) for key in keys), total]:
            for field in ENGAGEMENT:
                setattr(row, field, getattr(row, field) + stats[field])
    where, params = _merchant_where(merchant_ids)
    for sums in credit_sums(
        by=by,
        where=f"{where} AND c.currency = %(currency)s",
        params={**params, "currency": currency},
        days=days,
        model=model,
    ):
        row = total if sums["is_total"] else rows.setdefault(sums["key"], ReportRow(sums["key"]))
        for field in SALES:
            setattr(row, field, sums[field])
    _label(rows, by=by, videos=videos)
    ordered = sorted(rows.values(), key=lambda row: (row.key is None, -row.net, row.label))
    return Report(days, model, by, currency, ordered, total)


def _engagement(days: DayRange, video_ids: list[uuid.UUID]) -> list[dict[str, Any]]:
    """Each video's engagement over the days: rolled up before today, live today."""
    counts = engagement_by_video(video_ids=video_ids, start=days.start, end=days.end)
    return [{"video_id": video_id, **fields} for video_id, fields in counts.items()]


def _label(
    rows: dict[uuid.UUID | None, ReportRow], *, by: str, videos: dict[uuid.UUID, Video]
) -> None:
    keys = [key for key in rows if key is not None]
    if by == "video":
        known = {video.id: str(video) for video in Video.objects.in_bulk(keys).values()}
    elif by == "creator":
        known = {video.creator_id: str(video.creator) for video in videos.values()}
    else:
        known = dict(
            ProductCard.objects.filter(product_id__in=keys).values_list("product_id", "title")
        )
    for key, row in rows.items():
        if key is not None:
            row.label = known.get(key, str(key))


def daily_sales(
    *,
    merchant_ids: list[uuid.UUID] | None,
    video_id: uuid.UUID,
    days: DayRange,
    model: str,
    currency: str,
) -> list[tuple[date, int]]:
    """Attributed sales (before refunds) of one video per UTC day, every day of the range."""
    credits = Credit.objects.filter(
        model=model,
        video_id=video_id,
        currency=currency,
        refund_id__isnull=True,
        paid_at__gte=days.since,
        paid_at__lt=days.until,
    )
    if merchant_ids is not None:
        credits = credits.filter(merchant_id__in=merchant_ids)
    by_day = dict(
        credits.annotate(day=TruncDate("paid_at", tzinfo=UTC))
        .values("day")
        .annotate(amount=Sum("amount"))
        .values_list("day", "amount")
    )
    count = (days.end - days.start).days + 1
    return [
        (day, by_day.get(day, 0)) for day in (days.start + timedelta(days=n) for n in range(count))
    ]
