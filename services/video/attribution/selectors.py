"""Reading attribution: a creator's earnings and a merchant's reports, for a range of
days (by payment date: a sale's later refunds count against it) and one model."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from typing import Any

from django.conf import settings
from django.db.models import Count, Q, QuerySet, Sum
from django.utils import timezone

from attribution.models import Credit
from videos.models import Video

SALE = Q(refund_id__isnull=True)
CREDITED_SALE = SALE & Q(amount__gt=0)


@dataclass(frozen=True)
class DayRange:
    """UTC days from `start` to `end`, both included."""

    start: date
    end: date

    @property
    def since(self) -> datetime:
        return datetime.combine(self.start, time.min, tzinfo=UTC)

    @property
    def until(self) -> datetime:
        return datetime.combine(self.end + timedelta(days=1), time.min, tzinfo=UTC)


def credits_in(days: DayRange, model: str) -> QuerySet[Credit]:
    return Credit.objects.filter(model=model, paid_at__gte=days.since, paid_at__lt=days.until)


def _money(amount: int | None, currency: str) -> dict[str, Any]:
    return {"amount": amount or 0, "currency": currency}


def creator_earnings(*, creator_id: uuid.UUID, days: DayRange, model: str) -> dict[str, Any]:
    """A creator's attributed sales and commission per video and currency, split into
    pending and settled (paid more than the settlement days ago). Two queries."""
    settled_before = timezone.now() - timedelta(days=settings.ATTRIBUTION_SETTLEMENT_DAYS)
    settled = Q(paid_at__lt=settled_before)
    rows = list(
        credits_in(days, model)
        .filter(creator_id=creator_id)
        .values("video_id", "currency")
        .annotate(
            sales=Sum("amount", filter=SALE),
            net=Sum("amount"),
            commission=Sum("commission_amount"),
            settled_net=Sum("amount", filter=settled),
            settled_commission=Sum("commission_amount", filter=settled),
            orders=Count("sale_line__order_id", filter=CREDITED_SALE, distinct=True),
            units=Sum("sale_line__quantity", filter=CREDITED_SALE),
        )
        .order_by("-net", "video_id")
    )
    videos = Video.objects.in_bulk({row["video_id"] for row in rows})
    totals: dict[str, dict[str, int]] = {}
    results = []
    for row in rows:
        currency, video = row["currency"], videos[row["video_id"]]
        figures = {
            "sales": row["sales"] or 0,
            "refunds": (row["sales"] or 0) - row["net"],
            "net": row["net"],
            "commission": row["commission"],
            "pending_net": row["net"] - (row["settled_net"] or 0),
            "pending_commission": row["commission"] - (row["settled_commission"] or 0),
            "settled_net": row["settled_net"] or 0,
            "settled_commission": row["settled_commission"] or 0,
        }
        total = totals.setdefault(currency, dict.fromkeys(figures, 0))
        for name, value in figures.items():
            total[name] += value
        results.append(
            {
                "video": {
                    "id": video.id,
                    "caption": video.caption,
                    "thumbnail_url": video.thumbnail_url,
                    "status": video.status,
                },
                "orders": row["orders"],
                "units": row["units"] or 0,
                **_earnings_money(figures, currency),
            }
        )
    return {
        "from": days.start,
        "to": days.end,
        "model": model,
        "settlement_days": settings.ATTRIBUTION_SETTLEMENT_DAYS,
        "totals": [
            {"currency": currency, **_earnings_money(figures, currency)}
            for currency, figures in sorted(totals.items())
        ],
        "videos": results,
    }


def _earnings_money(figures: dict[str, int], currency: str) -> dict[str, Any]:
    return {
        "sales": _money(figures["sales"], currency),
        "refunds": _money(figures["refunds"], currency),
        "net": _money(figures["net"], currency),
        "commission": _money(figures["commission"], currency),
        "pending": {
            "net": _money(figures["pending_net"], currency),
            "commission": _money(figures["pending_commission"], currency),
        },
        "settled": {
            "net": _money(figures["settled_net"], currency),
            "commission": _money(figures["settled_commission"], currency),
        },
    }
