"""Reads: the feed and single videos as mobile sees them (API.md), in three queries
whatever the page size — videos with creators, their tags, the tagged products' cards."""

from __future__ import annotations

import itertools
import uuid
from collections import defaultdict
from typing import Any

from django.db.models import Q, QuerySet

from productcards.models import ProductCard
from videos.models import ProductTag, Video

_VIDEO_FIELDS = (
    "id",
    "status",
    "stream_url",
    "thumbnail_url",
    "caption",
    "duration_ms",
    "published_at",
    "creator_id",
    "creator__handle",
    "creator__display_name",
    "creator__avatar_url",
)


def feed_videos() -> QuerySet[Video, dict[str, Any]]:
    """Published videos, newest first (page it, then `videos_render` the page)."""
    return Video.objects.filter(status=Video.Status.PUBLISHED).values(*_VIDEO_FIELDS)


def video_for_viewer(*, video_id: uuid.UUID, user_id: str | None) -> dict[str, Any] | None:
    """A published video, or the viewer's own draft; None for anything else."""
    visible = Q(status=Video.Status.PUBLISHED)
    if user_id is not None:
        visible |= Q(status=Video.Status.DRAFT, creator__user_id=user_id)
    return Video.objects.filter(visible, id=video_id).values(*_VIDEO_FIELDS).first()


def _cards(product_ids: set[uuid.UUID]) -> dict[uuid.UUID, dict[str, Any]]:
    """Feed cards of products catalog still sells (archived and unknown ones are absent)."""
    rows = ProductCard.objects.filter(product_id__in=product_ids, status="active").values(
        "product_id", "title", "image", "price_amount", "currency", "stock_status"
    )
    return {
        row["product_id"]: {
            "id": str(row["product_id"]),
            "title": row["title"],
            "image": row["image"] or None,
            "price": None
            if row["price_amount"] is None
            else {"amount": row["price_amount"], "currency": row["currency"]},
            "stock_status": row["stock_status"],
        }
        for row in rows
    }


def videos_render(rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Rows of `feed_videos` / `video_for_viewer` as API.md's video objects."""
    tags_by_video: dict[uuid.UUID, list[dict[str, Any]]] = defaultdict(list)
    tags = list(
        ProductTag.objects.filter(video_id__in=[row["id"] for row in rows])
        .order_by("start_ms", "created_at")
        .values(
            "id",
            "video_id",
            "product_id",
            "variant_id",
            "start_ms",
            "end_ms",
            "x",
            "y",
            "keyframes",
        )
    )
    cards = _cards({tag["product_id"] for tag in tags})
    for tag in tags:
        card = cards.get(tag["product_id"])
        if card is None:
            continue  # archived or unknown product: the tag is not shown
        tags_by_video[tag["video_id"]].append(
            {
                "id": str(tag["id"]),
                "start_ms": tag["start_ms"],
                "end_ms": tag["end_ms"],
                "x": tag["x"],
                "y": tag["y"],
                "keyframes": tag["keyframes"],
                "product": card,
                "variant_id": None if tag["variant_id"] is None else str(tag["variant_id"]),
            }
        )
    return [
        {
            "id": str(row["id"]),
            "creator": {
                "id": str(row["creator_id"]),
                "handle": row["creator__handle"],
                "display_name": row["creator__display_name"],
                "avatar_url": row["creator__avatar_url"] or None,
            },
            "status": row["status"],
            "stream_url": row["stream_url"],
            "thumbnail_url": row["thumbnail_url"],
            "caption": row["caption"],
            "duration_ms": row["duration_ms"],
            "published_at": row["published_at"],
            "tags": tags_by_video[row["id"]],
        }
        for row in rows
    ]


def own_video(*, video_id: uuid.UUID, user_id: str) -> Video:
    """The caller's own video (not removed); `Video.DoesNotExist` — a 404 — otherwise,
    also for other creators' videos."""
    return Video.objects.select_related("creator").get(
        id=video_id,
        creator__user_id=user_id,
        status__in=[Video.Status.DRAFT, Video.Status.PUBLISHED],
    )


def own_tag(*, video: Video, tag_id: uuid.UUID) -> ProductTag:
    return ProductTag.objects.get(id=tag_id, video=video)


def tag_position_at(tag: ProductTag, t_ms: int) -> tuple[float, float] | None:
    """Where the hotspot is at `t_ms`: hidden (None) outside the tag's span or, with
    keyframes, outside the first and last keyframe; linear between keyframes."""
    if not tag.start_ms <= t_ms <= tag.end_ms:
        return None
    frames = tag.keyframes
    if not frames:
        return tag.x, tag.y
    if not frames[0]["t_ms"] <= t_ms <= frames[-1]["t_ms"]:
        return None
    for before, after in itertools.pairwise(frames):
        if before["t_ms"] <= t_ms <= after["t_ms"]:
            share = (t_ms - before["t_ms"]) / (after["t_ms"] - before["t_ms"])
            return (
                before["x"] + share * (after["x"] - before["x"]),
                before["y"] + share * (after["y"] - before["y"]),
            )
    return frames[-1]["x"], frames[-1]["y"]
