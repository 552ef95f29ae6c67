"""Writes on videos and their product tags, always by the video's own creator (the API)
or by a merchant's staff (the admin, through the same functions)."""

from __future__ import annotations

import logging
import uuid
from typing import Any

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from clipcart_shared.errors import ApplicationError
from clipcart_shared.pages import pages_version_bump
from core.catalog import product_card_fetch
from core.errors import VideoErrorCode
from creators.models import Creator
from productcards.services import product_card_remember
from videos.models import ProductTag, Video
from videos.signals import videos_changed

logger = logging.getLogger(__name__)

MAX_KEYFRAMES = 50


def video_create(*, creator: Creator, **fields: Any) -> Video:
    """A draft video of this creator."""
    video = Video.objects.create(creator=creator, status=Video.Status.DRAFT, **fields)
    videos_changed.send(sender=Video, video_ids=[video.id])
    return video


@transaction.atomic
def video_update(*, video: Video, **fields: Any) -> Video:
    """Change a video's media or caption. A shorter duration may not cut a tag."""
    locked = Video.objects.select_for_update().get(id=video.id)
    duration = fields.get("duration_ms", locked.duration_ms)
    if locked.tags.filter(end_ms__gt=duration).exists():
        raise ApplicationError(
            VideoErrorCode.TAG_OUTSIDE_VIDEO,
            "Some tags end after the new duration; move them first.",
            status=422,
            errors=[{"field": "duration_ms", "code": "tag_outside_video", "message": "Too short."}],
        )
    for name, value in fields.items():
        setattr(locked, name, value)
    locked.save()
    videos_changed.send(sender=Video, video_ids=[locked.id])
    return locked


def video_publish(*, video: Video) -> Video:
    """Show the video in feeds. Publishing twice keeps the first publication time."""
    Video.objects.filter(id=video.id, status=Video.Status.DRAFT).update(
        status=Video.Status.PUBLISHED, published_at=timezone.now()
    )
    pages_version_bump()  # in the latest feed, its hashtags' pages and search now
    video.refresh_from_db()
    return video


def video_remove(*, video: Video) -> None:
    """Take the video down for good. Its row stays: sales it drove stay credited to it."""
    Video.objects.filter(id=video.id).update(status=Video.Status.REMOVED)
    pages_version_bump()  # gone from every stored page at once


def _span_errors(
    *, start_ms: int, end_ms: int, duration_ms: int, keyframes: list[dict[str, Any]]
) -> list[dict[str, str]]:
    errors = []
    if not start_ms < end_ms <= duration_ms:
        errors.append(
            {
                "field": "end_ms",
                "code": "tag_outside_video",
                "message": f"Need start_ms < end_ms <= {duration_ms} (the video's length).",
            }
        )
    times = [frame["t_ms"] for frame in keyframes]
    if times != sorted(set(times)):
        errors.append({"field": "keyframes", "code": "unordered", "message": "t_ms must increase."})
    if any(not start_ms <= t <= end_ms for t in times):
        errors.append(
            {
                "field": "keyframes",
                "code": "tag_outside_video",
                "message": "Keyframes must lie between start_ms and end_ms.",
            }
        )
    return errors


def _product_checked(*, product_id: uuid.UUID, variant_id: uuid.UUID | None) -> dict[str, Any]:
    """Ask catalog: the product must exist and be for sale; a variant must be its own."""
    card = product_card_fetch(product_id=product_id)
    if card is None:
        raise ApplicationError(
            VideoErrorCode.UNKNOWN_PRODUCT,
            "That product does not exist or is not for sale.",
            status=422,
            errors=[{"field": "product_id", "code": "unknown_product", "message": "Not for sale."}],
        )
    if variant_id is not None and str(variant_id) not in {v["id"] for v in card["variants"]}:
        raise ApplicationError(
            VideoErrorCode.UNKNOWN_VARIANT,
            "That variant is not one of the product's.",
            status=422,
            errors=[{"field": "variant_id", "code": "unknown_variant", "message": "Not found."}],
        )
    return card


def tag_create(
    *,
    video: Video,
    product_id: uuid.UUID,
    start_ms: int,
    end_ms: int,
    x: float,
    y: float,
    created_by: str,
    variant_id: uuid.UUID | None = None,
    keyframes: list[dict[str, Any]] | None = None,
    merchant_id: uuid.UUID | None = None,
) -> ProductTag:
    """Tag a product on a video. Catalog is asked first (503 when it cannot answer, with
    nothing written); `merchant_id`, when given, must own the product (admin tagging)."""
    keyframes = keyframes or []
    errors = _span_errors(
        start_ms=start_ms, end_ms=end_ms, duration_ms=video.duration_ms, keyframes=keyframes
    )
    if errors:
        raise ApplicationError(
            VideoErrorCode.TAG_OUTSIDE_VIDEO, "The tag does not fit the video.", errors=errors
        )
    card = _product_checked(product_id=product_id, variant_id=variant_id)
    owner = uuid.UUID(card["merchant"]["id"])
    if merchant_id is not None and owner != merchant_id:
        raise ApplicationError(
            VideoErrorCode.UNKNOWN_PRODUCT, "You can only tag your own products.", status=422
        )
    with transaction.atomic():
        # The row lock makes the tag limit hold under concurrent taggers.
        locked = Video.objects.select_for_update().get(id=video.id)
        if locked.tags.count() >= settings.MAX_TAGS_PER_VIDEO:
            raise ApplicationError(
                VideoErrorCode.TOO_MANY_TAGS,
                f"A video holds at most {settings.MAX_TAGS_PER_VIDEO} tags.",
                status=422,
            )
        product_card_remember(card=card)
        tag = ProductTag.objects.create(
            video=locked,
            product_id=product_id,
            variant_id=variant_id,
            merchant_id=owner,
            start_ms=start_ms,
            end_ms=end_ms,
            x=x,
            y=y,
            keyframes=keyframes,
            created_by=created_by,
        )
        videos_changed.send(sender=Video, video_ids=[locked.id])
    logger.info("Product tagged", extra={"video_id": str(video.id), "tag_id": str(tag.id)})
    return tag


@transaction.atomic
def tag_update(*, tag: ProductTag, **fields: Any) -> ProductTag:
    """Move or re-time a tag (its product stays; tag another product instead)."""
    locked = ProductTag.objects.select_for_update().select_related("video").get(id=tag.id)
    for name, value in fields.items():
        setattr(locked, name, value)
    errors = _span_errors(
        start_ms=locked.start_ms,
        end_ms=locked.end_ms,
        duration_ms=locked.video.duration_ms,
        keyframes=locked.keyframes,
    )
    if errors:
        raise ApplicationError(
            VideoErrorCode.TAG_OUTSIDE_VIDEO, "The tag does not fit the video.", errors=errors
        )
    locked.save()
    pages_version_bump()  # where the tag shows, in the stored pages
    return locked


@transaction.atomic
def tag_delete(*, tag: ProductTag) -> None:
    """Untag the product: the video is no longer found by its title."""
    ProductTag.objects.filter(id=tag.id).delete()
    # Discovery's refresh of the video bumps the stored pages' version too.
    videos_changed.send(sender=Video, video_ids=[tag.video_id])
