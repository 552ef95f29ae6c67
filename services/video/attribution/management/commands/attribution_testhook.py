"""Tests only: attribution's state as other services' tests set it up (`manage.py
attribution_testhook <hook> '<JSON>'`; clipcart_shared.testhook). Beside `core`'s
`testhook` because `core` may not import attribution. Refused under production settings."""

from __future__ import annotations

import uuid
from datetime import datetime, timedelta
from typing import Any

from django.db import transaction
from django.utils import timezone

from attribution.models import MerchantAttributionSettings, ProductCommissionRate
from clipcart_shared.outbox.services import event_consume
from clipcart_shared.testhook import HookCommand
from creators.models import Creator
from engagement.models import EngagementEvent
from videos.models import ProductTag, Video


def product_commission_rate_set(*, product_id: str, merchant_id: str, rate_bps: int) -> dict:
    """The merchant's commission rate on `product_id`, for every creator."""
    ProductCommissionRate.objects.update_or_create(
        product_id=product_id, defaults={"merchant_id": merchant_id, "rate_bps": rate_bps}
    )
    return {"product_id": product_id, "rate_bps": rate_bps}


def checkout_events_consume(*, envelopes: list[dict[str, Any]]) -> dict:
    """Checkout's events (`order.paid`, `order.refunded`, …) as video's worker applies
    them, each once; returns how many were new."""
    return {"applied": sum(event_consume(envelope=envelope) for envelope in envelopes)}


def creator_videos_create(
    *, commission_rate_bps: int, videos: int, products: list[dict[str, str]]
) -> dict:
    """A new creator at its own commission rate, with `videos` published videos, each
    tagging every one of `products` (`[{product_id, merchant_id}]`); returns
    `{creator_id, video_ids}`."""
    with transaction.atomic():
        name = uuid.uuid4().hex[:12]
        creator = Creator.objects.create(
            user_id=f"creator-{name}",
            handle=f"c_{name}",
            display_name=f"Creator {name}",
            commission_rate_bps=commission_rate_bps,
        )
        video_ids = []
        for _ in range(videos):
            video = Video.objects.create(
                creator=creator,
                stream_url="https://cdn.example.com/v.m3u8",
                thumbnail_url="https://cdn.example.com/v.jpg",
                duration_ms=30000,
                status=Video.Status.PUBLISHED,
                published_at=timezone.now(),
            )
            ProductTag.objects.bulk_create(
                ProductTag(
                    video=video,
                    product_id=product["product_id"],
                    merchant_id=product["merchant_id"],
                    start_ms=0,
                    end_ms=1000,
                    x=0.5,
                    y=0.5,
                    created_by="checkout-tests",
                )
                for product in products
            )
            video_ids.append(str(video.id))
    return {"creator_id": str(creator.id), "video_ids": video_ids}


def touches_record(*, user_id: str, touches: list[dict[str, str]]) -> dict:
    """The user's engagement events as the events API stores them: `[{video_id,
    product_id, type, occurred_at}]` (ISO 8601)."""
    EngagementEvent.objects.bulk_create(
        EngagementEvent(
            event_id=uuid.uuid4(),
            user_id=user_id,
            type=touch["type"],
            video_id=touch["video_id"],
            product_id=touch["product_id"],
            occurred_at=datetime.fromisoformat(touch["occurred_at"]),
        )
        for touch in touches
    )
    return {"recorded": len(touches)}


def merchant_attribution_set(
    *, merchant_models: dict[str, str], click_window_days: int, product_ids: list[str]
) -> dict:
    """Each merchant's attribution model and click window; the products' own commission
    rates removed, so that each creator's rate applies (the session's video database is
    shared by every checkout test)."""
    with transaction.atomic():
        for merchant_id, model in merchant_models.items():
            MerchantAttributionSettings.objects.update_or_create(
                merchant_id=merchant_id,
                defaults={
                    "default_model": model,
                    "click_window": timedelta(days=click_window_days),
                },
            )
        ProductCommissionRate.objects.filter(product_id__in=product_ids).delete()
    return {"merchants": len(merchant_models)}


def merchant_attribution_clear(*, merchant_ids: list[str]) -> dict:
    """The merchants back to the defaults (last touch, the default windows)."""
    deleted, _ = MerchantAttributionSettings.objects.filter(merchant_id__in=merchant_ids).delete()
    return {"cleared": deleted}


class Command(HookCommand):
    hooks = {
        "product_commission_rate_set": product_commission_rate_set,
        "checkout_events_consume": checkout_events_consume,
        "creator_videos_create": creator_videos_create,
        "touches_record": touches_record,
        "merchant_attribution_set": merchant_attribution_set,
        "merchant_attribution_clear": merchant_attribution_clear,
    }
