from __future__ import annotations

import uuid

from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.db.models import F, Q

from core.validators import web_url
from creators.models import Creator

MAX_DURATION_MS = 60 * 60 * 1000


class Video(models.Model):
    class Status(models.TextChoices):
        DRAFT = "draft"
        PUBLISHED = "published"
        # Removed by its creator: kept (sales stay attributed to it) but never shown.
        REMOVED = "removed"

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    creator = models.ForeignKey(Creator, on_delete=models.PROTECT, related_name="videos")
    stream_url = models.CharField(max_length=500, validators=[web_url])
    thumbnail_url = models.CharField(max_length=500, validators=[web_url])
    caption = models.TextField(max_length=2200, blank=True)
    duration_ms = models.PositiveIntegerField(
        validators=[MinValueValidator(1), MaxValueValidator(MAX_DURATION_MS)]
    )
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.DRAFT)
    published_at = models.DateTimeField(null=True, blank=True)
    # Users who like it now, kept by `engagement.services.likes_apply` as like and unlike
    # events come in: the video card shows it without a COUNT per request.
    likes_count = models.PositiveIntegerField(default=0)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["-published_at", "-id"]
        indexes = [
            models.Index(
                fields=["-published_at", "-id"],
                name="video_feed_idx",
                condition=Q(status="published"),
            ),
            models.Index(fields=["creator", "-created_at"], name="video_creator_idx"),
        ]
        constraints = [
            models.CheckConstraint(
                condition=Q(duration_ms__gt=0, duration_ms__lte=MAX_DURATION_MS),
                name="video_duration_range",
            ),
            models.CheckConstraint(
                condition=~Q(status="published") | Q(published_at__isnull=False),
                name="video_published_has_time",
            ),
        ]

    def __str__(self) -> str:
        return self.caption[:40] or str(self.id)


class ProductTag(models.Model):
    """A catalog product shown on a video between two times, at a spot on the frame
    (x, y in 0..1), optionally following the product through keyframes."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    video = models.ForeignKey(Video, on_delete=models.CASCADE, related_name="tags")
    product_id = models.UUIDField()
    variant_id = models.UUIDField(null=True, blank=True)
    # The product's merchant (from catalog), so merchants find the tags on their products.
    merchant_id = models.UUIDField()
    start_ms = models.PositiveIntegerField()
    end_ms = models.PositiveIntegerField()
    x = models.FloatField()
    y = models.FloatField()
    # [{t_ms, x, y}, …] in time order; the hotspot moves linearly between them.
    keyframes = models.JSONField(default=list, blank=True)
    created_by = models.CharField(max_length=160)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["start_ms", "created_at"]
        indexes = [
            models.Index(fields=["product_id"], name="tag_product_idx"),
            models.Index(fields=["merchant_id"], name="tag_merchant_idx"),
        ]
        constraints = [
            models.CheckConstraint(condition=Q(end_ms__gt=F("start_ms")), name="tag_span_ordered"),
            models.CheckConstraint(
                condition=Q(x__gte=0, x__lte=1, y__gte=0, y__lte=1), name="tag_position_in_frame"
            ),
        ]

    def __str__(self) -> str:
        """The product's title where the query brought it from the product cards (the
        admin's tags do: `product_title`), else its id; then the span."""
        product = getattr(self, "product_title", None) or self.product_id
        return f"{product} @ {self.start_ms}-{self.end_ms} ms"
