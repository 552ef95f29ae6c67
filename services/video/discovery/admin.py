"""Discovery in the admin, for platform staff: what is trending now and which hashtags
are in use (merchant staff are given no permission on these)."""

from __future__ import annotations

from typing import Any

from django.contrib import admin
from django.db.models import Count, OuterRef, QuerySet, Subquery
from django.http import HttpRequest
from django.urls import reverse
from django.utils.html import format_html

from clipcart_shared.admin import ReadOnlyAdminMixin
from discovery.models import HashtagUse, VideoHashtag, VideoTrend
from videos.models import Video


@admin.register(VideoTrend)
class VideoTrendAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    list_display = ["score_shown", "video", "creator", "computed_at"]
    ordering = ["-score"]
    list_per_page = 50

    def get_queryset(self, request: HttpRequest) -> QuerySet[VideoTrend]:
        videos = Video.objects.filter(id=OuterRef("video_id"))
        return (
            super()
            .get_queryset(request)
            .annotate(
                caption=Subquery(videos.values("caption")[:1]),
                handle=Subquery(videos.values("creator__handle")[:1]),
            )
        )

    @admin.display(description="Score", ordering="score")
    def score_shown(self, trend: Any) -> str:
        return f"{trend.score:.1f}"

    @admin.display(description="Video")
    def video(self, trend: Any) -> str:
        url = reverse("admin:videos_video_change", args=[trend.video_id])
        return format_html('<a href="{}">{}</a>', url, (trend.caption or "")[:60])

    @admin.display(description="Creator")
    def creator(self, trend: Any) -> str:
        return f"@{trend.handle}"


@admin.register(HashtagUse)
class HashtagAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    list_display = ["tag_shown", "videos"]
    search_fields = ["tag"]
    list_per_page = 50

    def get_queryset(self, request: HttpRequest) -> QuerySet[Any]:
        # One row per hashtag: the first use stands for all of them.
        firsts = VideoHashtag.objects.filter(tag=OuterRef("tag")).order_by("id").values("id")[:1]
        return (
            super()
            .get_queryset(request)
            .filter(id=Subquery(firsts))
            .annotate(
                video_count=Subquery(
                    VideoHashtag.objects.filter(tag=OuterRef("tag"))
                    .values("tag")
                    .annotate(count=Count("id"))
                    .values("count")
                )
            )
            .order_by("-video_count", "tag")
        )

    @admin.display(description="Hashtag", ordering="tag")
    def tag_shown(self, hashtag: Any) -> str:
        return f"#{hashtag.tag}"

    @admin.display(description="Videos", ordering="video_count")
    def videos(self, hashtag: Any) -> int:
        return int(hashtag.video_count)
