"""What discovery keeps beside the videos: their hashtags, the search index, the
vocabulary for typo-tolerant search, trending scores, ranked feed snapshots that cursors
page through, and products bought together (the units sold through videos per product
are `productcards.models.ProductSocialProof`, shown on the cards).

All of it is derived: `discovery.services` rebuilds any of it from the videos, creators,
product cards, engagement events and sale lines it comes from.
"""

from __future__ import annotations

import uuid

from django.contrib.postgres.fields import ArrayField
from django.contrib.postgres.indexes import GinIndex
from django.contrib.postgres.search import SearchVectorField
from django.db import models


class VideoHashtag(models.Model):
    """A hashtag of a video's caption, normalized (`discovery.text.hashtags_parse`)."""

    video = models.ForeignKey("videos.Video", on_delete=models.CASCADE, related_name="hashtags")
    tag = models.CharField(max_length=100)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["tag", "video"], name="video_hashtag_once"),
        ]
        indexes = [models.Index(fields=["video"], name="video_hashtag_video_idx")]

    def __str__(self) -> str:
        return f"#{self.tag}"


class HashtagUse(VideoHashtag):
    """Hashtags with how many videos use each, in the admin (no table of its own)."""

    class Meta:
        proxy = True
        verbose_name = "hashtag"
        verbose_name_plural = "hashtags"


class SearchDocument(models.Model):
    """What search matches one video, product or creator against: a tsvector of
    normalized words, handles and hashtags as whole words weighing most."""

    class Kind(models.TextChoices):
        VIDEO = "video"
        PRODUCT = "product"
        CREATOR = "creator"

    kind = models.CharField(max_length=10, choices=Kind.choices)
    object_id = models.UUIDField()
    document = SearchVectorField()
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["kind", "object_id"], name="search_document_once"),
        ]
        indexes = [GinIndex(fields=["document"], name="search_document_idx")]

    def __str__(self) -> str:
        return f"{self.kind} {self.object_id}"


class SearchTerm(models.Model):
    """A handle or hashtag with its trigrams: a query word that matches no term exactly
    is widened to the terms that share most of its trigrams (a one-letter typo)."""

    term = models.CharField(primary_key=True, max_length=100)
    trigrams = ArrayField(models.TextField())

    class Meta:
        indexes = [GinIndex(fields=["trigrams"], name="search_term_trigrams_idx")]

    def __str__(self) -> str:
        return self.term


class VideoTrend(models.Model):
    """A published video's engagement in the last 48 hours, each event decayed by its
    age; rewritten by `trending_recompute`."""

    video_id = models.UUIDField(primary_key=True)
    score = models.FloatField()
    computed_at = models.DateTimeField()

    def __str__(self) -> str:
        return f"{self.video_id}: {self.score:.2f}"


class FeedSnapshot(models.Model):
    """A ranked list of video ids that a feed's cursor pages through, so that paging never
    repeats or skips a video while rankings change underneath: the trending ranking as
    `trending_recompute` wrote it (no user), or one user's "for you" ranking as of the
    first page."""

    class Mode(models.TextChoices):
        TRENDING = "trending"
        FOR_YOU = "for_you"

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    mode = models.CharField(max_length=10, choices=Mode.choices)
    user_id = models.CharField(max_length=128, null=True, blank=True)
    video_ids = ArrayField(models.UUIDField())
    created_at = models.DateTimeField()

    class Meta:
        indexes = [
            models.Index(fields=["mode", "-created_at"], name="feed_snapshot_latest_idx"),
            models.Index(fields=["created_at"], name="feed_snapshot_age_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.mode} {self.created_at:%Y-%m-%d %H:%M}"


class ForYouRanking(models.Model):
    """A user's "for you" ranking kept for their next first page: the snapshot it was
    ranked into, the first page it was spread for, and the user's signals version then
    (`clipcart_shared.pages.user_signals_version`). A first page reads it instead of
    ranking while the version is unchanged and it is younger than
    FOR_YOU_RANKING_MAX_AGE_SECONDS; the worker ranks active users ahead of time."""

    user_id = models.CharField(max_length=128, primary_key=True)
    snapshot = models.ForeignKey(FeedSnapshot, on_delete=models.CASCADE, related_name="+")
    first_page = models.PositiveSmallIntegerField()
    signals_version = models.CharField(max_length=32)
    ranked_at = models.DateTimeField()

    def __str__(self) -> str:
        return f"{self.user_id} {self.ranked_at:%Y-%m-%d %H:%M}"


class NotInterested(models.Model):
    """A user's "not interested" in a video: it never comes back in their ranked feeds, and
    what it stood for (by `reason`) weighs against similar videos, fading like interest."""

    class Reason(models.TextChoices):
        CREATOR = "creator"  # this creator
        PRODUCT = "product"  # these products, their merchant and category
        SEEN_TOO_OFTEN = "seen_too_often"  # this creator and these hashtags, a little

    id = models.BigAutoField(primary_key=True)
    user_id = models.CharField(max_length=128)
    video_id = models.UUIDField()
    reason = models.CharField(max_length=20, choices=Reason.choices, blank=True)
    created_at = models.DateTimeField()

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["user_id", "video_id"], name="not_interested_once"),
        ]
        indexes = [
            models.Index(fields=["user_id", "created_at"], name="not_interested_user_idx"),
        ]
        verbose_name_plural = "not interested"

    def __str__(self) -> str:
        return f"{self.user_id}: not {self.video_id} ({self.reason or 'no reason'})"


class ProductPairing(models.Model):
    """How many buyers bought both products (attributed sale lines of the last 90 days,
    one order or several); rewritten by `trending_recompute`. After a purchase, "for you"
    leans to the products most often bought with it."""

    product_id = models.UUIDField()
    other_product_id = models.UUIDField()
    buyers = models.PositiveIntegerField()

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["product_id", "other_product_id"], name="product_pairing_once"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.product_id} + {self.other_product_id}: {self.buyers}"
