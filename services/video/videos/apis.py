"""The feed, single videos, and creators' own videos and tags (mobile)."""

from __future__ import annotations

import uuid
from typing import Any

from django.http import HttpResponse
from drf_spectacular.utils import extend_schema
from rest_framework import serializers, status
from rest_framework.exceptions import NotFound
from rest_framework.request import Request
from rest_framework.response import Response

from clipcart_shared.auth import IsMobileUser, mobile_user_id, optional_mobile_user_id
from clipcart_shared.etag import etag_response
from clipcart_shared.serializers import (
    CharField,
    FloatField,
    IntegerField,
    MoneySerializer,
    UUIDField,
)
from clipcart_shared.views import PublicApiView
from core.validators import web_url
from creators.selectors import creator_for_user
from videos.models import MAX_DURATION_MS, ProductTag, Video
from videos.selectors import (
    own_tag,
    own_video,
    video_for_viewer,
)
from videos.services import (
    MAX_KEYFRAMES,
    tag_create,
    tag_delete,
    tag_update,
    video_create,
    video_publish,
    video_remove,
    video_update,
)

# --- output shapes (documentation of what the selectors build) ------------------------


class ProductCardFieldsSerializer(serializers.Serializer):
    id = serializers.UUIDField()
    title = serializers.CharField()
    image = serializers.URLField(allow_null=True)
    price = MoneySerializer(allow_null=True)
    stock_status = serializers.ChoiceField(["in_stock", "low_stock", "out_of_stock"])
    sold_via_videos_30d = serializers.IntegerField(
        min_value=0, help_text="Units sold through videos in the last 30 days."
    )


class TagFlashDealSerializer(serializers.Serializer):
    price = MoneySerializer(help_text="The deal's unit price.")
    ends_at = serializers.DateTimeField()
    remaining = serializers.IntegerField(
        allow_null=True, help_text="Units left at the deal price; null: no total limit."
    )
    per_buyer_limit = serializers.IntegerField(help_text="Units one buyer gets at this price.")
    video_id = serializers.UUIDField(help_text="This tag's video.")
    variant_id = serializers.UUIDField(allow_null=True, help_text="null: every variant.")


class TagProductSerializer(ProductCardFieldsSerializer):
    flash_deal = TagFlashDealSerializer(
        allow_null=True,
        help_text="A flash deal running on this product in this video (added to the cart "
        "from this video, it has the deal price); null when none.",
    )


class KeyframeSerializer(serializers.Serializer):
    t_ms = IntegerField(min_value=0, max_value=MAX_DURATION_MS)
    x = FloatField(min_value=0, max_value=1)
    y = FloatField(min_value=0, max_value=1)


class TagSerializer(serializers.Serializer):
    id = serializers.UUIDField()
    start_ms = serializers.IntegerField()
    end_ms = serializers.IntegerField()
    x = serializers.FloatField()
    y = serializers.FloatField()
    keyframes = KeyframeSerializer(many=True)
    product = TagProductSerializer()
    variant_id = serializers.UUIDField(allow_null=True)


class VideoCreatorSerializer(serializers.Serializer):
    id = serializers.UUIDField()
    handle = serializers.CharField()
    display_name = serializers.CharField()
    avatar_url = serializers.URLField(allow_null=True)
    followers = serializers.IntegerField(min_value=0)


class VideoSerializer(serializers.Serializer):
    id = serializers.UUIDField()
    creator = VideoCreatorSerializer()
    status = serializers.ChoiceField(["draft", "published"])
    stream_url = serializers.URLField()
    thumbnail_url = serializers.URLField()
    caption = serializers.CharField()
    duration_ms = serializers.IntegerField()
    published_at = serializers.DateTimeField(allow_null=True)
    tags = TagSerializer(many=True)
    likes = serializers.IntegerField(min_value=0, help_text="Users who like it now.")


def _rendered(video_id: uuid.UUID, user_id: str | None) -> dict[str, Any]:
    video = video_for_viewer(video_id=video_id, user_id=user_id)
    if video is None:
        raise NotFound("No such video.")
    return video


def _own_video_or_404(request: Request, video_id: uuid.UUID) -> Video:
    try:
        return own_video(video_id=video_id, user_id=mobile_user_id(request))
    except Video.DoesNotExist as error:
        raise NotFound("No such video.") from error


# --- reading and writing videos -------------------------------------------------------------


class VideoApi(PublicApiView):
    """Read any published video (or your own draft); change or remove your own."""

    throttle_scope = "writes"

    class VideoUpdateSerializer(serializers.Serializer):
        stream_url = CharField(max_length=500, validators=[web_url], required=False)
        thumbnail_url = CharField(max_length=500, validators=[web_url], required=False)
        caption = CharField(max_length=2200, allow_blank=True, required=False)
        duration_ms = IntegerField(min_value=1, max_value=MAX_DURATION_MS, required=False)

    def get_permissions(self) -> list[Any]:
        return [] if self.request.method == "GET" else [IsMobileUser()]

    # Anyone may read a published video, signed in or not, like the feed.
    @extend_schema(
        operation_id="videos_retrieve",
        responses=VideoSerializer,
        auth=[{"mobileUser": []}, {}],  # type: ignore[list-item]  # (stubs: names only)
    )
    def get(self, request: Request, video_id: uuid.UUID) -> HttpResponse:
        return etag_response(request, _rendered(video_id, optional_mobile_user_id(request)))

    @extend_schema(
        operation_id="videos_partial_update",
        request=VideoUpdateSerializer,
        responses=VideoSerializer,
    )
    def patch(self, request: Request, video_id: uuid.UUID) -> Response:
        video = _own_video_or_404(request, video_id)
        data = self.VideoUpdateSerializer(data=request.data, partial=True)
        data.is_valid(raise_exception=True)
        video_update(video=video, **data.validated_data)
        return Response(_rendered(video_id, mobile_user_id(request)))

    @extend_schema(operation_id="videos_destroy", responses={204: None})
    def delete(self, request: Request, video_id: uuid.UUID) -> Response:
        video_remove(video=_own_video_or_404(request, video_id))
        return Response(status=status.HTTP_204_NO_CONTENT)


class VideoCreateApi(PublicApiView):
    permission_classes = [IsMobileUser]
    throttle_scope = "writes"

    class VideoCreateSerializer(serializers.Serializer):
        stream_url = CharField(max_length=500, validators=[web_url])
        thumbnail_url = CharField(max_length=500, validators=[web_url])
        caption = CharField(max_length=2200, allow_blank=True, default="")
        duration_ms = IntegerField(min_value=1, max_value=MAX_DURATION_MS)

    @extend_schema(
        operation_id="videos_create",
        request=VideoCreateSerializer,
        responses={201: VideoSerializer},
    )
    def post(self, request: Request) -> Response:
        creator = creator_for_user(user_id=mobile_user_id(request))
        data = self.VideoCreateSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        video = video_create(creator=creator, **data.validated_data)
        return Response(
            _rendered(video.id, mobile_user_id(request)),
            status=status.HTTP_201_CREATED,
        )


class VideoPublishApi(PublicApiView):
    permission_classes = [IsMobileUser]
    throttle_scope = "writes"

    @extend_schema(operation_id="videos_publish", request=None, responses=VideoSerializer)
    def post(self, request: Request, video_id: uuid.UUID) -> Response:
        video_publish(video=_own_video_or_404(request, video_id))
        return Response(_rendered(video_id, mobile_user_id(request)))


# --- tags ------------------------------------------------------------------------------


class TagInputSerializer(serializers.Serializer):
    product_id = UUIDField()
    variant_id = UUIDField(required=False, allow_null=True)
    start_ms = IntegerField(min_value=0, max_value=MAX_DURATION_MS)
    end_ms = IntegerField(min_value=1, max_value=MAX_DURATION_MS)
    x = FloatField(min_value=0, max_value=1)
    y = FloatField(min_value=0, max_value=1)
    keyframes = KeyframeSerializer(many=True, required=False, max_length=MAX_KEYFRAMES)  # type: ignore[call-arg]


class TagCreatedSerializer(serializers.Serializer):
    id = serializers.UUIDField()
    video_id = serializers.UUIDField()
    product_id = serializers.UUIDField()
    variant_id = serializers.UUIDField(allow_null=True)
    start_ms = serializers.IntegerField()
    end_ms = serializers.IntegerField()
    x = serializers.FloatField()
    y = serializers.FloatField()
    keyframes = KeyframeSerializer(many=True)


def _tag_render(tag: ProductTag) -> dict[str, Any]:
    return TagCreatedSerializer(
        {
            "id": tag.id,
            "video_id": tag.video_id,
            "product_id": tag.product_id,
            "variant_id": tag.variant_id,
            "start_ms": tag.start_ms,
            "end_ms": tag.end_ms,
            "x": tag.x,
            "y": tag.y,
            "keyframes": tag.keyframes,
        }
    ).data


class TagCreateApi(PublicApiView):
    permission_classes = [IsMobileUser]
    throttle_scope = "writes"

    @extend_schema(
        operation_id="video_tags_create",
        request=TagInputSerializer,
        responses={201: TagCreatedSerializer},
        description="Tag a catalog product (active) on your own video. 422 "
        "`unknown_product`, `tag_outside_video`, `too_many_tags`; 503 "
        "`catalog_unavailable` with nothing written.",
    )
    def post(self, request: Request, video_id: uuid.UUID) -> Response:
        video = _own_video_or_404(request, video_id)
        data = TagInputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        tag = tag_create(
            video=video,
            created_by=f"user:{mobile_user_id(request)}",
            **data.validated_data,
        )
        return Response(_tag_render(tag), status=status.HTTP_201_CREATED)


class TagApi(PublicApiView):
    permission_classes = [IsMobileUser]
    throttle_scope = "writes"

    class TagUpdateSerializer(serializers.Serializer):
        start_ms = IntegerField(min_value=0, max_value=MAX_DURATION_MS, required=False)
        end_ms = IntegerField(min_value=1, max_value=MAX_DURATION_MS, required=False)
        x = FloatField(min_value=0, max_value=1, required=False)
        y = FloatField(min_value=0, max_value=1, required=False)
        keyframes = KeyframeSerializer(many=True, required=False, max_length=MAX_KEYFRAMES)  # type: ignore[call-arg]

    def _tag(self, request: Request, video_id: uuid.UUID, tag_id: uuid.UUID) -> ProductTag:
        video = _own_video_or_404(request, video_id)
        try:
            return own_tag(video=video, tag_id=tag_id)
        except ProductTag.DoesNotExist as error:
            raise NotFound("No such tag.") from error

    @extend_schema(
        operation_id="video_tags_partial_update",
        request=TagUpdateSerializer,
        responses=TagCreatedSerializer,
    )
    def patch(self, request: Request, video_id: uuid.UUID, tag_id: uuid.UUID) -> Response:
        tag = self._tag(request, video_id, tag_id)
        data = self.TagUpdateSerializer(data=request.data, partial=True)
        data.is_valid(raise_exception=True)
        return Response(_tag_render(tag_update(tag=tag, **data.validated_data)))

    @extend_schema(operation_id="video_tags_destroy", responses={204: None})
    def delete(self, request: Request, video_id: uuid.UUID, tag_id: uuid.UUID) -> Response:
        tag_delete(tag=self._tag(request, video_id, tag_id))
        return Response(status=status.HTTP_204_NO_CONTENT)
