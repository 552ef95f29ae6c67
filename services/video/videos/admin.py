"""Videos and their product tags, for platform staff and merchants' staff.

A merchant's staff see the videos that tag their products or belong to their brand
creators, and the tags on their products. They may remove such a tag from any video
(brand safety), and tag their own products, or move and re-time those tags, only on
their brand creators' videos. Nobody edits a video here: creators do, in the app. Every
write on a tag goes through `videos.services`, so the admin keeps the API's rules: the
span fits the video, catalog sells the product, at most 30 tags per video.
"""

from __future__ import annotations

import uuid
from decimal import Decimal
from typing import Any, cast

from django.contrib import admin
from django.core.exceptions import PermissionDenied
from django.db.models import Count, OuterRef, Q, QuerySet, Subquery
from django.http import HttpRequest, JsonResponse
from django.template.loader import render_to_string
from django.urls import URLPattern, path

from clipcart_shared.admin import (
    MerchantScopedAdminMixin,
    ReadOnlyAdminMixin,
    request_merchant_ids,
    thumbnail,
    web_image_url,
)
from productcards.models import ProductCard
from videos.admin_views import product_search_json
from videos.forms import (
    TagAddForm,
    TagChangeForm,
    TagEditor,
    TagForm,
    VideoChoiceField,
    taggable_videos,
)
from videos.models import ProductTag, Video
from videos.services import tag_delete

# The change list's filter for the videos tagging a product (`?tags__product_id=<id>`).
PRODUCT_LOOKUP = "tags__product_id"


def merchant_video_filter(merchant_ids: list[uuid.UUID]) -> Q:
    """The videos these merchants' staff may see: those tagging their products, and their
    brand creators' own (which they may tag before any tag exists)."""
    tagging = ProductTag.objects.filter(merchant_id__in=merchant_ids).values("video_id")
    return Q(pk__in=tagging) | Q(creator__brand_merchant_id__in=merchant_ids)


def clock(milliseconds: int) -> str:
    """0:09, 1:05, 0:02.5: how players show a moment of a video."""
    minutes, rest = divmod(milliseconds, 60_000)
    seconds, millis = divmod(rest, 1000)
    text = f"{minutes}:{seconds:02d}"
    return f"{text}.{millis:03d}".rstrip("0") if millis else text


def percent(share: float) -> str:
    return f"{round(share * 100, 1):g}"


def span_and_position_label(tag: ProductTag) -> str:
    """The span and spot as people read them: "0:02\N{EN DASH}0:09 at (30%, 60%)"
    (an en dash: a span, not a minus)."""
    return (
        f"{clock(tag.start_ms)}\N{EN DASH}{clock(tag.end_ms)} "
        f"at ({percent(tag.x)}%, {percent(tag.y)}%)"
    )


def _with_product(tags: QuerySet[ProductTag]) -> QuerySet[ProductTag]:
    """Each tag with its product's title and merchant from the local read model of catalog's
    cards (one query for the page, and the admin never waits on catalog to list tags)."""
    cards = ProductCard.objects.filter(product_id=OuterRef("product_id"))
    return tags.annotate(
        product_title=Subquery(cards.values("title")[:1]),
        product_merchant_name=Subquery(cards.values("merchant_name")[:1]),
    )


class _TagDisplay:
    """Columns and read-only fields shared by the tag list and the video's tag inline."""

    @admin.display(description="Product", ordering="product_title")
    def product(self, tag: ProductTag) -> str:
        title = getattr(tag, "product_title", None)
        if not title:
            return str(tag.product_id)  # not heard of from catalog yet
        merchant_name = getattr(tag, "product_merchant_name", "")
        return f"{title} ({merchant_name})" if merchant_name else title

    @admin.display(description="Shown", ordering="start_ms")
    def span_and_position(self, tag: ProductTag) -> str:
        return span_and_position_label(tag)


class ProductTagInline(ReadOnlyAdminMixin, _TagDisplay, admin.TabularInline):
    """The video's tags the user may see, read-only: tags are changed on their own page,
    through the services."""

    model = ProductTag
    fields = ["product", "span_and_position", "created_by"]
    readonly_fields = ["product", "span_and_position", "created_by"]
    extra = 0
    can_delete = False
    show_change_link = True

    def get_queryset(self, request: HttpRequest) -> QuerySet[ProductTag]:
        tags = _with_product(super().get_queryset(request))
        merchant_ids = request_merchant_ids(request)
        return tags if merchant_ids is None else tags.filter(merchant_id__in=merchant_ids)


# Everything shown on a video, all read-only.
VIDEO_FIELDS: list[Any] = [
    "creator",
    "caption",
    "status",
    "length",
    "published_at",
    "stream_url",
    "thumbnail_url",
    "created_at",
    "updated_at",
]


@admin.register(Video)
class VideoAdmin(MerchantScopedAdminMixin, admin.ModelAdmin):
    """Videos, view-only for everyone: their creators change them in the app."""

    list_display = [
        "picture",
        "__str__",
        "creator",
        "status",
        "length",
        "tag_count",
        "published_at",
    ]
    list_display_links = ["picture", "__str__"]
    list_filter = ["status"]
    list_select_related = ["creator"]
    search_fields = ["caption", "creator__handle"]
    fields = VIDEO_FIELDS
    readonly_fields = VIDEO_FIELDS
    inlines = [ProductTagInline]

    def scope_queryset(
        self, queryset: QuerySet[Video], merchant_ids: list[uuid.UUID]
    ) -> QuerySet[Video]:
        return queryset.filter(merchant_video_filter(merchant_ids))

    def get_queryset(self, request: HttpRequest) -> QuerySet[Video]:
        videos = super().get_queryset(request)
        merchant_ids = request_merchant_ids(request)
        if merchant_ids is None:
            return videos.annotate(tag_total=Count("tags"))
        # Staff count only the tags they can open.
        return videos.annotate(
            tag_total=Count("tags", filter=Q(tags__merchant_id__in=merchant_ids))
        )

    def get_list_display(self, request: HttpRequest) -> list[Any]:
        columns = list(super().get_list_display(request))
        if request_merchant_ids(request) is not None:
            columns[columns.index("tag_count")] = "own_tag_count"
        return columns

    def lookup_allowed(self, lookup: str, value: str, request: HttpRequest | None = None) -> bool:
        # Catalog's product page links here: the videos tagging one product (the list stays
        # scoped to the user's merchants as always).
        return lookup == PRODUCT_LOOKUP or super().lookup_allowed(lookup, value, request)

    @admin.display(description="Picture")
    def picture(self, video: Video) -> str:
        return thumbnail(video.thumbnail_url, alt="")

    @admin.display(description="Length", ordering="duration_ms")
    def length(self, video: Video) -> str:
        return clock(video.duration_ms)

    @admin.display(description="Tags", ordering="tag_total")
    def tag_count(self, video: Video) -> int:
        return int(getattr(video, "tag_total", 0))

    @admin.display(description="Tags of your products", ordering="tag_total")
    def own_tag_count(self, video: Video) -> int:
        return int(getattr(video, "tag_total", 0))

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        # Rows stay even when a video is taken down: sales stay credited to it.
        return False


@admin.register(ProductTag)
class ProductTagAdmin(_TagDisplay, MerchantScopedAdminMixin, admin.ModelAdmin):
    form = TagChangeForm
    add_form = TagAddForm
    add_fields = [
        "video",
        "product_id",
        "start_seconds",
        "end_seconds",
        "x_percent",
        "y_percent",
        "keyframes",
    ]
    # With the right to move the tag: the editor on the picture (`videos.forms`).
    change_fields = [
        "video",
        "product",
        "start_seconds",
        "end_seconds",
        "x_percent",
        "y_percent",
        "keyframes",
        "keyframes_summary",
        "created_by",
        "created_at",
    ]
    # Without it (a tag on another creator's video): the picture with the tag drawn on it.
    view_fields = [
        "video",
        "product",
        "start_seconds",
        "end_seconds",
        "x_percent",
        "y_percent",
        "preview",
        "keyframes_summary",
        "created_by",
        "created_at",
    ]
    change_readonly_fields = [
        "video",
        "product",
        "preview",
        "keyframes_summary",
        "created_by",
        "created_at",
    ]
    list_display = ["product", "video", "creator", "span_and_position", "created_by", "created_at"]
    list_select_related = ["video__creator"]
    search_fields = ["product_title", "video__caption", "video__creator__handle"]
    ordering = ["-created_at"]

    # --- scope and permissions --------------------------------------------------------

    def scope_queryset(
        self, queryset: QuerySet[ProductTag], merchant_ids: list[uuid.UUID]
    ) -> QuerySet[ProductTag]:
        return queryset.filter(merchant_id__in=merchant_ids)

    def get_queryset(self, request: HttpRequest) -> QuerySet[ProductTag]:
        return _with_product(super().get_queryset(request).select_related("video__creator"))

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        """A merchant's staff move and re-time tags of their products on their brand
        creators' videos only; on anyone else's video they may look at a tag and remove
        it, not rearrange the creator's video."""
        allowed = super().has_change_permission(request, obj)
        merchant_ids = request_merchant_ids(request)
        if not allowed or obj is None or merchant_ids is None:
            return allowed
        return obj.video.creator.brand_merchant_id in merchant_ids

    # --- the product picker's search -----------------------------------------------------

    def get_urls(self) -> list[URLPattern]:
        search = path(
            "product-search/",
            self.admin_site.admin_view(self.product_search_view),
            name=f"{self.opts.app_label}_{self.opts.model_name}_product_search",
        )
        return [search, *super().get_urls()]

    def product_search_view(self, request: HttpRequest) -> JsonResponse:
        """Catalog's products the user may tag (their merchants' own), as select2 JSON."""
        if not (self.has_add_permission(request) or self.has_change_permission(request)):
            raise PermissionDenied
        return product_search_json(request, merchant_ids=request_merchant_ids(request))

    # --- the form -------------------------------------------------------------------------

    def get_fields(self, request: HttpRequest, obj: Any = None) -> list[Any]:
        if obj is None:
            return list(self.add_fields)
        if self.has_change_permission(request, obj):
            return list(self.change_fields)
        return list(self.view_fields)

    def get_readonly_fields(self, request: HttpRequest, obj: Any = None) -> list[str]:
        return [] if obj is None else list(self.change_readonly_fields)

    def get_form(
        self, request: HttpRequest, obj: Any = None, change: bool = False, **kwargs: Any
    ) -> Any:
        if obj is None:
            kwargs["form"] = self.add_form
        form = cast(type[TagForm], super().get_form(request, obj, change=change, **kwargs))
        return form.for_editor(
            TagEditor(
                created_by=f"admin:{request.user.get_username()}",
                merchant_ids=request_merchant_ids(request),
            )
        )

    def formfield_for_foreignkey(self, db_field: Any, request: HttpRequest, **kwargs: Any) -> Any:
        if db_field.name == "video":
            kwargs.setdefault(
                "queryset", taggable_videos(merchant_ids=request_merchant_ids(request))
            )
            kwargs.setdefault("form_class", VideoChoiceField)
        return super().formfield_for_foreignkey(db_field, request, **kwargs)

    def save_model(self, request: HttpRequest, obj: ProductTag, form: Any, change: bool) -> None:
        """Nothing left to do: the form saved the tag through the service while it was
        validated (see `videos.forms`), so a refusal could still be shown on the form."""

    def delete_model(self, request: HttpRequest, obj: ProductTag) -> None:
        tag_delete(tag=obj)

    def delete_queryset(self, request: HttpRequest, queryset: QuerySet[ProductTag]) -> None:
        for tag in queryset:
            tag_delete(tag=tag)

    # --- columns and read-only fields ------------------------------------------------------

    @admin.display(description="Creator", ordering="video__creator__handle")
    def creator(self, tag: ProductTag) -> str:
        return str(tag.video.creator)

    @admin.display(description="Start (s)")
    def start_seconds(self, tag: ProductTag) -> Decimal:
        return Decimal(tag.start_ms) / 1000

    @admin.display(description="End (s)")
    def end_seconds(self, tag: ProductTag) -> Decimal:
        return Decimal(tag.end_ms) / 1000

    @admin.display(description="Across (%)")
    def x_percent(self, tag: ProductTag) -> str:
        return percent(tag.x)

    @admin.display(description="Down (%)")
    def y_percent(self, tag: ProductTag) -> str:
        return percent(tag.y)

    @admin.display(description="Preview")
    def preview(self, tag: ProductTag) -> str:
        duration = tag.video.duration_ms
        return render_to_string(
            "videos/admin/tag_preview.html",
            {
                "thumbnail": web_image_url(tag.video.thumbnail_url),
                "x": percent(tag.x),
                "y": percent(tag.y),
                "start": clock(tag.start_ms),
                "end": clock(tag.end_ms),
                "length": clock(duration),
                "span_left": f"{100 * tag.start_ms / duration:.2f}",
                "span_width": f"{100 * (tag.end_ms - tag.start_ms) / duration:.2f}",
                "keyframes": [
                    {
                        "x": percent(frame["x"]),
                        "y": percent(frame["y"]),
                        "at": clock(frame["t_ms"]),
                    }
                    for frame in tag.keyframes
                ],
            },
        )

    @admin.display(description="Keyframes")
    def keyframes_summary(self, tag: ProductTag) -> str:
        if not tag.keyframes:
            return "None: the hotspot stays in place."
        return " → ".join(
            f"{clock(frame['t_ms'])} ({percent(frame['x'])}%, {percent(frame['y'])}%)"
            for frame in tag.keyframes
        )
