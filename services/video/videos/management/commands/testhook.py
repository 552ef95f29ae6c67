"""Tests only: video's state as other services' tests set it up (`manage.py testhook <hook>
'<JSON>'`; clipcart_shared.testhook). Refused under production settings."""

from __future__ import annotations

import uuid

from django.utils import timezone

from clipcart_shared.testhook import HookCommand
from creators.models import Creator
from videos.models import ProductTag, Video


def video_tag_create(*, product_id: str, status: str = "published", created_by: str) -> dict:
    """A new video of the first demo creator with `status`, tagging `product_id`;
    returns `{video_id, tag_id}`."""
    video = Video.objects.create(
        creator=Creator.objects.order_by("handle")[0],
        stream_url="https://cdn.example.com/v.m3u8",
        thumbnail_url="https://cdn.example.com/v.jpg",
        duration_ms=30000,
        status=status,
        published_at=timezone.now(),
    )
    tag = ProductTag.objects.create(
        video=video,
        product_id=product_id,
        merchant_id=uuid.uuid4(),
        start_ms=0,
        end_ms=1000,
        x=0.5,
        y=0.5,
        created_by=created_by,
    )
    return {"video_id": str(video.id), "tag_id": str(tag.id)}


class Command(HookCommand):
    hooks = {"video_tag_create": video_tag_create}
