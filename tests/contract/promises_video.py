"""docs/API.md's promises for the video service, one entry per operation (see
`test_schema_covers_contract`)."""

from __future__ import annotations

from typing import Any

import pytest

from tests.contract.promise import CREATOR, EVENT_TYPES, STOCK_STATUSES, VIDEO, Promise, page

VIDEO_PROMISES: list[Any] = [
    Promise(
        "video",
        "GET",
        "/api/v1/feed/",
        "GET /api/v1/feed/?cursor=&limit=: videos [{id, creator {id, handle, display_name, "
        "avatar_url}, stream_url, thumbnail_url, caption, duration_ms, published_at, tags [{id, "
        "start_ms, end_ms, x, y, product {id, title, image, price, stock_status}, variant_id}]}]",
        status="200",
        response=page(VIDEO),
        parameters=("cursor", "limit"),
        enums={"results[].tags[].product.stock_status": STOCK_STATUSES},
    ),
    pytest.param(
        Promise(
            "video",
            "GET",
            "/api/v1/feed/",
            "Feed modes: ?mode=for_you (default with a token), trending (default without), latest.",
            status="200",
            parameters=("mode",),
        ),
        id="GET /api/v1/feed/ ?mode",
    ),
    pytest.param(
        Promise(
            "video",
            "GET",
            "/api/v1/feed/",
            "Product cards in feeds also carry sold_via_videos_30d.",
            status="200",
            response=("results[].tags[].product.sold_via_videos_30d",),
        ),
        id="GET /api/v1/feed/ sold_via_videos_30d",
    ),
    pytest.param(
        Promise(
            "video",
            "GET",
            "/api/v1/hashtags/{tag}/videos/",
            "Discovery: GET /api/v1/hashtags/{tag}/videos/",
            status="200",
            response=("results[].id", "results[].tags[].product.sold_via_videos_30d", "next"),
        ),
        id="GET /api/v1/hashtags/{tag}/videos/",
    ),
    pytest.param(
        Promise(
            "video",
            "GET",
            "/api/v1/search/",
            "GET /api/v1/search/?q=&type=videos|products|creators",
            status="200",
            parameters=("q", "type", "cursor", "limit"),
            response=("results[].id", "next"),
        ),
        id="GET /api/v1/search/",
    ),
    Promise(
        "video",
        "GET",
        "/api/v1/videos/{id}/",
        "GET /api/v1/videos/{id}/ the same shape for one video",
        status="200",
        response=VIDEO,
    ),
    Promise(
        "video",
        "POST",
        "/api/v1/events/",
        "POST /api/v1/events/ (user) {events: [{event_id, type, video_id, tag_id?, product_id?, "
        "occurred_at, watch_ms?}]} ... → 202 {accepted, duplicates, rejected: [{index, code}]}",
        status="202",
        request=tuple(
            f"events[].{name}"
            for name in (
                "event_id",
                "type",
                "video_id",
                "tag_id",
                "product_id",
                "occurred_at",
                "watch_ms",
            )
        ),
        response=("accepted", "duplicates", "rejected[].index", "rejected[].code"),
        enums={"request.events[].type": EVENT_TYPES},
    ),
    Promise(
        "video",
        "POST",
        "/api/v1/creators/",
        "POST /api/v1/creators/ {handle, display_name, avatar_url?} → the caller's creator profile",
        status="201",
        request=("handle", "display_name", "avatar_url"),
        response=CREATOR,
    ),
    Promise(
        "video",
        "GET",
        "/api/v1/creators/me/",
        "GET /api/v1/creators/me/",
        status="200",
        response=CREATOR,
    ),
    Promise(
        "video",
        "POST",
        "/api/v1/creators/me/codes/",
        "POST /api/v1/creators/me/codes/ {merchant_id, code?, message?} asks the merchant for "
        "a creator code → {id, merchant_id, code, message, status: open | granted, created_at}",
        status="201",
        request=("merchant_id", "code", "message"),
        response=("id", "merchant_id", "code", "message", "status", "created_at"),
        enums={"status": frozenset({"open", "granted"})},
    ),
    Promise(
        "video",
        "POST",
        "/api/v1/videos/",
        "POST /api/v1/videos/ {stream_url, thumbnail_url, caption, duration_ms} (draft)",
        status="201",
        request=("stream_url", "thumbnail_url", "caption", "duration_ms"),
        response=("id",),
    ),
    Promise(
        "video", "PATCH", "/api/v1/videos/{id}/", "PATCH/DELETE /api/v1/videos/{id}/", status="200"
    ),
    Promise(
        "video", "DELETE", "/api/v1/videos/{id}/", "PATCH/DELETE /api/v1/videos/{id}/", status="204"
    ),
    Promise(
        "video",
        "POST",
        "/api/v1/videos/{id}/publish/",
        "POST /api/v1/videos/{id}/publish/",
        status="200",
    ),
    Promise(
        "video",
        "POST",
        "/api/v1/videos/{id}/tags/",
        "POST /api/v1/videos/{id}/tags/ {product_id, variant_id?, start_ms, end_ms, x, y, "
        "keyframes?: [{t_ms, x, y}]}",
        status="201",
        request=(
            "product_id",
            "variant_id",
            "start_ms",
            "end_ms",
            "x",
            "y",
            "keyframes[].t_ms",
            "keyframes[].x",
            "keyframes[].y",
        ),
    ),
    Promise(
        "video",
        "PATCH",
        "/api/v1/videos/{id}/tags/{tag_id}/",
        "PATCH/DELETE /api/v1/videos/{id}/tags/{tag_id}/",
        status="200",
    ),
    Promise(
        "video",
        "DELETE",
        "/api/v1/videos/{id}/tags/{tag_id}/",
        "PATCH/DELETE /api/v1/videos/{id}/tags/{tag_id}/",
        status="204",
    ),
    Promise(
        "video",
        "GET",
        "/api/v1/creators/me/earnings/",
        "GET /api/v1/creators/me/earnings/?from=&to=&model=: attributed sales and commission, "
        "by video, with pending, settled, ineligible (returned or cancelled), the date each "
        "pending amount is expected to settle.",
        status="200",
        parameters=("from", "to", "model"),
        response=(
            "videos[].video.id",
            "videos[].sales.amount",
            "videos[].commission.amount",
            "videos[].pending.net",
            "videos[].pending.commission",
            "videos[].pending.schedule[].settles_on",
            "videos[].settled.net",
            "videos[].settled.commission",
            "videos[].ineligible.sales",
            "videos[].ineligible.commission",
        ),
    ),
    # Payouts (issue 16, Accounts)
    Promise(
        "video",
        "POST",
        "/api/v1/creators/me/payout-account/",
        "Payouts: POST /api/v1/creators/me/payout-account/ → {onboarding_url}",
        status="200",
        response=("onboarding_url",),
    ),
    Promise(
        "video",
        "GET",
        "/api/v1/creators/me/payout-account/",
        "GET /api/v1/creators/me/payout-account/ → {status: none | pending | enabled | restricted}",
        status="200",
        response=("status",),
        enums={"status": frozenset({"none", "pending", "enabled", "restricted"})},
    ),
    Promise(
        "video",
        "POST",
        "/api/v1/creators/payout-accounts/stripe-webhook/",
        "POST /api/v1/creators/payout-accounts/stripe-webhook/ (Stripe Connect, "
        "account.updated): ... 2xx for duplicates",
        status="200",
        parameters=("Stripe-Signature",),
    ),
    # Social and feedback (issue 19)
    Promise(
        "video",
        "POST",
        "/api/v1/creators/{id}/follow/",
        "Social: POST/DELETE /api/v1/creators/{id}/follow/ (idempotent); creator cards carry "
        "followers",
        status="200",
        response=(*CREATOR, "followers"),
    ),
    Promise(
        "video",
        "DELETE",
        "/api/v1/creators/{id}/follow/",
        "Social: POST/DELETE /api/v1/creators/{id}/follow/ (idempotent)",
        status="204",
    ),
    Promise(
        "video",
        "GET",
        "/api/v1/creators/me/following/",
        "GET /api/v1/creators/me/following/",
        status="200",
        response=page(tuple(f"creator.{name}" for name in (*CREATOR, "followers"))),
    ),
    pytest.param(
        Promise(
            "video",
            "GET",
            "/api/v1/feed/",
            "?mode=following on the feed; creator cards carry followers, video cards likes.",
            status="200",
            parameters=("mode",),
            response=("results[].likes", "results[].creator.followers"),
        ),
        id="GET /api/v1/feed/ following, likes, followers",
    ),
    Promise(
        "video",
        "POST",
        "/api/v1/videos/{id}/not-interested/",
        "POST /api/v1/videos/{id}/not-interested/ {reason?: creator | product | seen_too_often}",
        status="204",
        request=("reason",),
        enums={"request.reason": frozenset({"creator", "product", "seen_too_often"})},
    ),
]
