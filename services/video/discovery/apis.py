"""The feed in its three modes, videos by hashtag, and search (mobile, anonymous allowed)."""

from __future__ import annotations

import base64
import binascii
import json
import uuid
from typing import Any, cast

from django.db.models import QuerySet
from django.http import HttpResponse
from drf_spectacular.utils import (
    OpenApiParameter,
    PolymorphicProxySerializer,
    extend_schema,
    inline_serializer,
)
from rest_framework import serializers, status
from rest_framework.exceptions import NotAuthenticated, ValidationError
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.utils.urls import replace_query_param

from clipcart_shared.auth import IsMobileUser, mobile_user_id, optional_mobile_user_id
from clipcart_shared.errors import ApplicationError
from clipcart_shared.etag import etag_json_response
from clipcart_shared.pages import personal_page, shared_page
from clipcart_shared.pagination import CursorPagination, limit_parameter
from clipcart_shared.views import PublicApiView
from core.errors import VideoErrorCode
from discovery.models import FeedSnapshot, NotInterested
from discovery.selectors import SEARCH_TYPES, FeedVideo, FeedVideos, feed_videos, search
from discovery.services import not_interested_record, ranked_feed_page
from discovery.text import MAX_QUERY_LENGTH, MAX_QUERY_WORDS, hashtag_normalize, words
from videos.apis import ProductCardFieldsSerializer, VideoSerializer
from videos.models import Video

MODES = ("for_you", "trending", "latest", "following")

_CURSOR = OpenApiParameter("cursor", str, description="From the previous page's `next`.")
_LIMIT = limit_parameter()


class _Pagination(CursorPagination):
    ordering = FeedVideos.ORDERING


def _page_size(request: Request) -> int:
    return _Pagination().get_page_size(request)


def _query_value(request: Request, name: str) -> str | None:
    """A parameter read by hand, as `QuerySerializer` reads one: given once, and empty is
    a value (None only when absent)."""
    values = request.query_params.getlist(name)
    if len(values) > 1:
        raise ValidationError({name: ["Give this parameter once."]})
    return values[0] if values else None


def _cursor_encode(position: dict[str, Any]) -> str:
    return base64.urlsafe_b64encode(json.dumps(position).encode()).decode()


def _cursor_decode(request: Request, *keys: str) -> dict[str, Any] | None:
    """The position a `next` link carries, or None on a first page; 400 for anything that
    is not a cursor this API wrote."""
    raw = _query_value(request, "cursor")
    if raw is None:
        return None
    try:
        position = json.loads(base64.urlsafe_b64decode(raw.encode()))
        if not isinstance(position, dict) or set(position) != set(keys):
            raise ValueError(position)
        return position
    except (ValueError, binascii.Error, UnicodeError) as error:
        raise ValidationError({"cursor": ["This cursor is not valid."]}) from error


def _next_link(request: Request, position: dict[str, Any] | None) -> str | None:
    if position is None:
        return None
    return replace_query_param(request.build_absolute_uri(), "cursor", _cursor_encode(position))


def _list_body(results_json: str, next_link: str | None) -> bytes:
    # The objects as PostgreSQL wrote them: no decoding and encoding again (ADR 7).
    return f'{{"results":[{results_json}],"next":{json.dumps(next_link)}}}'.encode()


def _latest_body(request: Request, view: Any, videos: FeedVideos) -> bytes:
    paginator = _Pagination()
    # Not a QuerySet, but all that CursorPagination uses of one (FeedVideos).
    page = paginator.paginate_queryset(cast("QuerySet[Video, FeedVideo]", videos), request, view)
    results = ",".join(video.json for video in page or [])
    return _list_body(results, paginator.get_next_link())


def _latest_page(request: Request, view: Any, videos: FeedVideos) -> HttpResponse:
    return etag_json_response(request, _latest_body(request, view, videos))


def _shared_latest_page(request: Request, view: Any, videos: FeedVideos) -> HttpResponse:
    """A chronological page every caller shares (no field of it is personal): stored."""
    return shared_page(request, lambda: _latest_body(request, view, videos))


class FeedApi(PublicApiView):
    # Tells the schema that the answer is a page, `{"results": [...], "next": ...}`.
    pagination_class = _Pagination

    @extend_schema(
        operation_id="feed_list",
        parameters=[
            OpenApiParameter(
                "mode",
                str,
                enum=MODES,
                description="`for_you` (the default with a token): ranked for you from "
                "what you watch, tap and buy, mixed with trending. `trending` (the default "
                "without, and what `for_you` gives anonymous callers): the most engaging "
                "videos of the last 48 hours. `latest`: newest first. `following` (a token "
                "required, else 401): the newest from the creators you follow.",
            ),
            _CURSOR,
            _LIMIT,
        ],
        responses=VideoSerializer(many=True),
        description="Published videos with their tags and product cards. Paging never "
        "repeats or skips a video: a ranked feed's cursor keeps the order of its first "
        "page (400 `invalid_cursor` once that order is older than a day). Answers carry "
        "an ETag; send it back as If-None-Match to get 304 when unchanged.",
    )
    def get(self, request: Request) -> HttpResponse:
        user_id = optional_mobile_user_id(request)
        mode = _query_value(request, "mode")
        if mode is None:
            mode = "for_you" if user_id else "trending"
        if mode not in MODES:
            raise ValidationError({"mode": [f"One of {', '.join(MODES)}."]})
        if mode == "latest":
            return _shared_latest_page(request, self, feed_videos())
        if mode == "following":
            if user_id is None:
                raise NotAuthenticated("The following feed is yours: send your token.")
            return _latest_page(request, self, feed_videos(followed_by=user_id))
        if user_id is None:
            mode = "trending"
        cursor = _cursor_decode(request, "snapshot", "offset")
        try:
            snapshot_id = uuid.UUID(cursor["snapshot"]) if cursor else None
            offset = int(cursor["offset"]) if cursor else 0
        except (ValueError, TypeError, AttributeError) as error:
            raise ValidationError({"cursor": ["This cursor is not valid."]}) from error
        if not 0 <= offset <= 10_000:
            raise ValidationError({"cursor": ["This cursor is not valid."]})
        limit = _page_size(request)

        def render() -> bytes:
            page = ranked_feed_page(
                mode=FeedSnapshot.Mode(mode),
                user_id=user_id,
                offset=offset,
                limit=limit,
                snapshot_id=snapshot_id,
            )
            next_position = (
                {"snapshot": str(page.snapshot_id), "offset": offset + limit}
                if offset + limit < page.size
                else None
            )
            return _list_body(page.videos_json, _next_link(request, next_position))

        if user_id is None:
            # Anonymous trending is everyone's; a signed-in caller's pages leave out what
            # they said "not interested" to, so theirs are never shared.
            return shared_page(request, render)
        if mode == "for_you" and cursor is None:
            # A first page of "for you": the user's own, stored under their signals.
            return personal_page(request, user_id=user_id, render=render)
        return etag_json_response(request, render())


class HashtagVideosApi(PublicApiView):
    pagination_class = _Pagination

    @extend_schema(
        operation_id="hashtag_videos_list",
        parameters=[_CURSOR, _LIMIT],
        responses=VideoSerializer(many=True),
        description="Published videos whose caption has the hashtag (with or without `#`, "
        "any case), newest first. 400 `invalid_hashtag` for text that cannot be a hashtag.",
    )
    def get(self, request: Request, tag: str) -> HttpResponse:
        hashtag = hashtag_normalize(tag)
        if hashtag is None:
            raise ApplicationError(
                VideoErrorCode.INVALID_HASHTAG,
                "A hashtag is letters, digits and underscores, with at least one letter.",
                status=400,
            )
        return _shared_latest_page(request, self, feed_videos(hashtag=hashtag))


class SearchMerchantSerializer(serializers.Serializer):
    id = serializers.UUIDField()
    name = serializers.CharField()


class SearchProductSerializer(ProductCardFieldsSerializer):
    merchant = SearchMerchantSerializer()


class SearchCreatorSerializer(serializers.Serializer):
    id = serializers.UUIDField()
    handle = serializers.CharField()
    display_name = serializers.CharField()
    avatar_url = serializers.URLField(allow_null=True)
    followers = serializers.IntegerField(min_value=0)


def _query_words(query: str | None) -> list[str]:
    if query is None or not query.strip():
        raise ApplicationError(
            VideoErrorCode.QUERY_REQUIRED, "Say what to search for in `q`.", status=400
        )
    if len(query) > MAX_QUERY_LENGTH:
        raise ApplicationError(
            VideoErrorCode.QUERY_TOO_LONG,
            f"A search is at most {MAX_QUERY_LENGTH} characters.",
            status=400,
        )
    found = words(query)
    if not found:
        raise ApplicationError(
            VideoErrorCode.QUERY_NOT_SEARCHABLE,
            "The search has no letters or digits to look for.",
            status=400,
        )
    return list(dict.fromkeys(found))[:MAX_QUERY_WORDS]


class SearchApi(PublicApiView):
    throttle_scope = "search"
    throttle_methods = ("GET",)

    @extend_schema(
        operation_id="search",
        parameters=[
            OpenApiParameter("q", str, required=True, description="1 to 200 characters."),
            OpenApiParameter(
                "type", str, enum=SEARCH_TYPES, description="What to find; `videos` by default."
            ),
            _CURSOR,
            _LIMIT,
        ],
        responses={
            200: inline_serializer(
                "SearchResults",
                {
                    "results": PolymorphicProxySerializer(
                        component_name="SearchResult",
                        serializers=[
                            VideoSerializer,
                            SearchProductSerializer,
                            SearchCreatorSerializer,
                        ],
                        resource_type_field_name=None,
                        many=True,
                    ),
                    "next": serializers.URLField(allow_null=True),
                },
            )
        },
        description="Captions, hashtags, creator handles and tagged products' titles, every "
        "word matching as a prefix; a handle or hashtag spelled one letter wrong still "
        "matches. Best first: relevance lifted by recent engagement. 400 `query_required`, "
        "`query_too_long` (over 200 characters), `query_not_searchable` (no letters or "
        "digits).",
    )
    def get(self, request: Request) -> HttpResponse:
        kind = _query_value(request, "type")
        kind = "videos" if kind is None else kind
        if kind not in SEARCH_TYPES:
            raise ValidationError({"type": [f"One of {', '.join(SEARCH_TYPES)}."]})
        query_words = _query_words(_query_value(request, "q"))
        cursor = _cursor_decode(request, "rank", "id")
        try:
            after = (float(cursor["rank"]), uuid.UUID(cursor["id"])) if cursor else None
        except (ValueError, TypeError, AttributeError) as error:
            raise ValidationError({"cursor": ["This cursor is not valid."]}) from error
        limit = _page_size(request)

        def render() -> bytes:
            hits = search(kind=kind, words=query_words, limit=limit + 1, after=after)
            page = hits[:limit]
            next_position = (
                {"rank": page[-1].rank, "id": str(page[-1].id)} if len(hits) > limit else None
            )
            return _list_body(
                ",".join(hit.json for hit in page), _next_link(request, next_position)
            )

        # Results are the same for every caller: one stored page per query.
        return shared_page(request, render)


class NotInterestedApi(PublicApiView):
    permission_classes = [IsMobileUser]
    throttle_scope = "writes"

    class NotInterestedSerializer(serializers.Serializer):
        reason = serializers.ChoiceField(
            NotInterested.Reason.choices, required=False, allow_null=True
        )

    @extend_schema(
        operation_id="videos_not_interested",
        request=NotInterestedSerializer,
        responses={204: None},
        description="This video never comes back to you (in `for_you`, `trending` and "
        "`following`); with a `reason`, `creator` (that creator's videos sink to the end of "
        "`for_you` for weeks), `product` (its products, their merchant and category weigh "
        "less), `seen_too_often` (its creator and hashtags, a little), or none (its hashtags, "
        "a little). Saying it again keeps the latest reason. 404 `video_not_found`.",
    )
    def post(self, request: Request, video_id: uuid.UUID) -> Response:
        data = self.NotInterestedSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        not_interested_record(
            user_id=mobile_user_id(request),
            video_id=video_id,
            reason=data.validated_data.get("reason") or "",
        )
        return Response(status=status.HTTP_204_NO_CONTENT)
