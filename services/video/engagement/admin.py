"""Daily per-video counters, read-only: platform staff see every video's, a merchant's
staff those of the videos they may see (tagging their products, or their brand's own)."""

from __future__ import annotations

import uuid
from typing import Any

from django.contrib import admin
from django.db.models import OuterRef, QuerySet, Subquery
from django.http import HttpRequest
from django.urls import reverse
from django.utils.html import format_html

from clipcart_shared.admin import MerchantScopedAdminMixin
from engagement.models import DailyVideoStats
from videos.admin import merchant_video_filter
from videos.models import Video


@admin.register(DailyVideoStats)
class DailyVideoStatsAdmin(MerchantScopedAdminMixin, admin.ModelAdmin):
    list_display = [
        "day",
        "video",
        "impressions",
        "views",
        "unique_viewers",
        "tag_taps",
        "product_views",
        "add_to_carts",
    ]
    list_filter = ["day"]
    date_hierarchy = "day"
    ordering = ["-day", "video_id"]

    def scope_queryset(
        self, queryset: QuerySet[DailyVideoStats], merchant_ids: list[uuid.UUID]
    ) -> QuerySet[DailyVideoStats]:
        visible = Video.objects.filter(merchant_video_filter(merchant_ids)).values("id")
        return queryset.filter(video_id__in=visible)

    def get_queryset(self, request: HttpRequest) -> QuerySet[DailyVideoStats]:
        # `video_id` is no foreign key (ingestion stays one INSERT): join by hand.
        videos = Video.objects.filter(id=OuterRef("video_id"))
        return (
            super()
            .get_queryset(request)
            .annotate(
                video_caption=Subquery(videos.values("caption")[:1]),
                creator_handle=Subquery(videos.values("creator__handle")[:1]),
            )
        )

    @admin.display(description="Video")
    def video(self, stats: DailyVideoStats) -> str:
        caption = getattr(stats, "video_caption", None)
        if caption is None:
            return str(stats.video_id)
        label = f"@{getattr(stats, 'creator_handle', '')} — {caption[:40] or stats.video_id}"
        url = reverse("admin:videos_video_change", args=[stats.video_id])
        return format_html('<a href="{}">{}</a>', url, label)

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False
