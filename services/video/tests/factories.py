from __future__ import annotations

import uuid
from datetime import UTC, datetime
from typing import Any

import factory
from django.utils import timezone

from clipcart_shared.pages import pages_version_bump
from creators.models import Creator
from engagement.models import EngagementEvent
from productcards.models import ProductCard
from videos.models import ProductTag, Video


class ShownFactory(factory.django.DjangoModelFactory):
    """A row the feeds show, written as the services write it: the stored pages go stale
    (`pages_version_bump`), as after a publish, a tag or an applied product card."""

    class Meta:
        abstract = True

    @classmethod
    def _create(cls, model_class: Any, *args: Any, **kwargs: Any) -> Any:
        created = super()._create(model_class, *args, **kwargs)
        pages_version_bump()
        return created


class CreatorFactory(ShownFactory):
    class Meta:
        model = Creator

    user_id = factory.Sequence(lambda n: f"creator-user-{n}")
    handle = factory.Sequence(lambda n: f"creator_{n}")
    display_name = factory.Sequence(lambda n: f"Creator {n}")
    avatar_url = "https://img.example.com/avatar.jpg"


class VideoFactory(ShownFactory):
    class Meta:
        model = Video

    creator = factory.SubFactory(CreatorFactory)
    stream_url = "https://cdn.example.com/v.m3u8"
    thumbnail_url = "https://cdn.example.com/v.jpg"
    caption = "Look at this"
    duration_ms = 30_000
    status = Video.Status.PUBLISHED
    published_at = factory.LazyFunction(timezone.now)


class ProductCardFactory(ShownFactory):
    class Meta:
        model = ProductCard

    product_id = factory.LazyFunction(uuid.uuid4)
    merchant_id = factory.LazyFunction(uuid.uuid4)
    merchant_name = "Merchant"
    title = factory.Sequence(lambda n: f"Product {n}")
    image = "https://img.example.com/p.jpg"
    price_amount = 1999
    currency = "EUR"
    stock_status = "in_stock"
    status = "active"
    source_time = datetime(2026, 1, 1, tzinfo=UTC)


class ProductTagFactory(ShownFactory):
    class Meta:
        model = ProductTag

    video = factory.SubFactory(VideoFactory)
    product_id = factory.LazyAttribute(lambda tag: ProductCardFactory().product_id)
    merchant_id = factory.LazyFunction(uuid.uuid4)
    start_ms = 1000
    end_ms = 5000
    x = 0.5
    y = 0.5
    created_by = "test"


def engagement_event(
    user_id: str, video: Video, type: str, occurred_at: datetime, **fields: Any
) -> EngagementEvent:
    return EngagementEvent.objects.create(
        event_id=uuid.uuid4(),
        user_id=user_id,
        type=type,
        video_id=video.id,
        occurred_at=occurred_at,
        watch_ms=fields.pop("watch_ms", 5000 if type == "view" else None),
        **fields,
    )


def engagement_events(video: Video, counts: dict[str, int], at: datetime) -> None:
    """`counts` events of each type on `video` at `at`, each of another user, written as
    ingestion writes them (not rolled up)."""
    EngagementEvent.objects.bulk_create(
        [
            EngagementEvent(
                event_id=uuid.uuid4(),
                user_id=f"viewer-{index}",
                type=type,
                video_id=video.id,
                occurred_at=at,
                watch_ms=5000 if type == "view" else None,
            )
            for type, count in counts.items()
            for index in range(count)
        ]
    )


def paid_line(
    tag: ProductTag,
    amount: int = 10_000,
    quantity: int = 1,
    source: ProductTag | None = None,
    added_at: datetime | None = None,
) -> dict[str, Any]:
    """An `order.paid` line for the product of `tag`; `source`: bought from that tag."""
    return {
        "line_id": str(uuid.uuid4()),
        "product_id": str(tag.product_id),
        "variant_id": str(uuid.uuid4()),
        "merchant_id": str(tag.merchant_id),
        "quantity": quantity,
        "amount": amount,
        "source": None
        if source is None
        else {
            "video_id": str(source.video_id),
            "tag_id": str(source.id),
            "added_at": added_at.isoformat() if added_at else None,
        },
    }


def order_paid(
    user_id: str, lines: list[dict[str, Any]], paid_at: datetime, currency: str = "EUR"
) -> dict[str, Any]:
    order_id = str(uuid.uuid4())
    return {
        "id": str(uuid.uuid4()),
        "type": "order.paid",
        "source": "checkout",
        "time": paid_at.isoformat(),
        "subject": order_id,
        "data": {
            "order_id": order_id,
            "user_id": user_id,
            "currency": currency,
            "paid_at": paid_at.isoformat(),
            "lines": lines,
        },
    }


def order_refunded(
    paid: dict[str, Any], amounts: dict[str, int], refunded_at: datetime
) -> dict[str, Any]:
    """An `order.refunded` for the order of `paid`: {line id: amount}."""
    order_id = paid["data"]["order_id"]
    return {
        "id": str(uuid.uuid4()),
        "type": "order.refunded",
        "source": "checkout",
        "time": refunded_at.isoformat(),
        "subject": order_id,
        "data": {
            "order_id": order_id,
            "refund_id": str(uuid.uuid4()),
            "refunded_at": refunded_at.isoformat(),
            "lines": [
                {"line_id": line_id, "amount": amount} for line_id, amount in amounts.items()
            ],
        },
    }


def _units(lines: dict[str, int]) -> list[dict[str, Any]]:
    return [{"line_id": line_id, "quantity": quantity} for line_id, quantity in lines.items()]


def order_delivered(
    paid: dict[str, Any],
    lines: dict[str, int],
    delivered_at: datetime,
    returns_close_at: datetime,
    shipment_id: str | None = None,
) -> dict[str, Any]:
    """An `order.delivered` of one shipment of the order of `paid`: {line id: units}."""
    order_id = paid["data"]["order_id"]
    return {
        "id": str(uuid.uuid4()),
        "type": "order.delivered",
        "source": "checkout",
        "time": delivered_at.isoformat(),
        "subject": order_id,
        "data": {
            "order_id": order_id,
            "shipment_id": shipment_id or str(uuid.uuid4()),
            "merchant_id": paid["data"]["lines"][0]["merchant_id"],
            "lines": _units(lines),
            "at": delivered_at.isoformat(),
            "returns_close_at": returns_close_at.isoformat(),
        },
    }


def order_return(
    paid: dict[str, Any],
    lines: dict[str, int],
    at: datetime,
    status: str | None = None,
    return_id: str | None = None,
) -> dict[str, Any]:
    """An `order.return_requested` (no `status`) or `order.return_closed` (`status`
    rejected or refunded) of the order of `paid`: {line id: units}."""
    order_id = paid["data"]["order_id"]
    data: dict[str, Any] = {
        "order_id": order_id,
        "return_id": return_id or str(uuid.uuid4()),
        "merchant_id": paid["data"]["lines"][0]["merchant_id"],
        "lines": _units(lines),
        "at": at.isoformat(),
    }
    if status is not None:
        data["status"] = status
    return {
        "id": str(uuid.uuid4()),
        "type": "order.return_requested" if status is None else "order.return_closed",
        "source": "checkout",
        "time": at.isoformat(),
        "subject": order_id,
        "data": data,
    }
