from __future__ import annotations

from django.db import models


class EngagementEvent(models.Model):
    """One thing a user did with a video, as the app reported it. Written in bulk by
    `engagement.services.events_ingest`; the app's `event_id` makes a replay a no-op."""

    class Type(models.TextChoices):
        IMPRESSION = "impression"
        VIEW = "view"  # watched at least 3 s
        TAG_TAP = "tag_tap"
        PRODUCT_VIEW = "product_view"
        ADD_TO_CART = "add_to_cart"
        LIKE = "like"
        UNLIKE = "unlike"  # takes back the user's like of the video
        SHARE = "share"

    event_id = models.UUIDField(primary_key=True)
    user_id = models.CharField(max_length=128)
    type = models.CharField(max_length=20, choices=Type.choices)
    # No foreign key: ingestion validates the ids and stays a single bulk INSERT.
    video_id = models.UUIDField()
    tag_id = models.UUIDField(null=True)
    product_id = models.UUIDField(null=True)
    occurred_at = models.DateTimeField()
    watch_ms = models.PositiveIntegerField(null=True)
    received_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        indexes = [
            # Covers attribution's touch lookups (a buyer's events in a window): read from
            # the index alone, never the table.
            models.Index(
                fields=["user_id", "occurred_at"],
                include=["type", "video_id"],
                name="engagement_user_time_idx",
            ),
            models.Index(fields=["video_id", "occurred_at"], name="engagement_video_time_idx"),
            models.Index(fields=["occurred_at"], name="engagement_time_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.type} {self.video_id}"


class DailyVideoStats(models.Model):
    """Per-video counters for one UTC day, rolled up from engagement events."""

    video_id = models.UUIDField()
    day = models.DateField()
    impressions = models.PositiveIntegerField(default=0)
    views = models.PositiveIntegerField(default=0)
    tag_taps = models.PositiveIntegerField(default=0)
    product_views = models.PositiveIntegerField(default=0)
    add_to_carts = models.PositiveIntegerField(default=0)
    unique_viewers = models.PositiveIntegerField(default=0)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["-day"]
        constraints = [models.UniqueConstraint(fields=["video_id", "day"], name="daily_stats_once")]
        verbose_name_plural = "daily video stats"

    def __str__(self) -> str:
        return f"{self.video_id} {self.day}"


class VideoLike(models.Model):
    """Whether a user likes a video now: the latest of their `like` and `unlike` events
    (by `occurred_at`, so a late-arriving older event changes nothing)."""

    id = models.BigAutoField(primary_key=True)
    user_id = models.CharField(max_length=128)
    video_id = models.UUIDField()
    is_liked = models.BooleanField()
    changed_at = models.DateTimeField()

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["user_id", "video_id"], name="video_like_once"),
        ]
        indexes = [models.Index(fields=["video_id"], name="video_like_video_idx")]

    def __str__(self) -> str:
        return f"{self.user_id} {'likes' if self.is_liked else 'unliked'} {self.video_id}"
