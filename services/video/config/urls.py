from django.urls import path

from attribution import internal_apis as attribution_internal_apis
from clipcart_shared.urls import (  # noqa: F401 (Django reads the handlers here)
    handler400,
    handler403,
    handler404,
    handler500,
    service_urlpatterns,
)
from creators import apis as creator_apis
from discovery import apis as discovery_apis
from engagement import apis as engagement_apis
from payouts import apis as payout_apis
from payouts import internal_apis as payout_internal_apis
from videos import apis as video_apis
from videos import internal_apis as video_internal_apis

api_v1 = [
    path("feed/", discovery_apis.FeedApi.as_view(), name="feed"),
    path(
        "hashtags/<str:tag>/videos/",
        discovery_apis.HashtagVideosApi.as_view(),
        name="hashtag-videos",
    ),
    path("search/", discovery_apis.SearchApi.as_view(), name="search"),
    path("videos/", video_apis.VideoCreateApi.as_view(), name="video-create"),
    path("videos/<uuid:video_id>/", video_apis.VideoApi.as_view(), name="video-detail"),
    path(
        "videos/<uuid:video_id>/publish/",
        video_apis.VideoPublishApi.as_view(),
        name="video-publish",
    ),
    path(
        "videos/<uuid:video_id>/not-interested/",
        discovery_apis.NotInterestedApi.as_view(),
        name="video-not-interested",
    ),
    path("videos/<uuid:video_id>/tags/", video_apis.TagCreateApi.as_view(), name="tag-create"),
    path(
        "videos/<uuid:video_id>/tags/<uuid:tag_id>/",
        video_apis.TagApi.as_view(),
        name="tag-detail",
    ),
    path("creators/", creator_apis.CreatorCreateApi.as_view(), name="creator-create"),
    path("creators/me/", creator_apis.CreatorMeApi.as_view(), name="creator-me"),
    path(
        "creators/me/codes/",
        creator_apis.CreatorCodeRequestApi.as_view(),
        name="creator-codes",
    ),
    path(
        "creators/me/following/",
        creator_apis.CreatorFollowingApi.as_view(),
        name="creator-following",
    ),
    path(
        "creators/<uuid:creator_id>/follow/",
        creator_apis.CreatorFollowApi.as_view(),
        name="creator-follow",
    ),
    path(
        "creators/me/earnings/",
        payout_apis.CreatorEarningsApi.as_view(),
        name="creator-earnings",
    ),
    path(
        "creators/me/payout-account/",
        payout_apis.CreatorPayoutAccountApi.as_view(),
        name="creator-payout-account",
    ),
    path(
        "creators/payout-accounts/stripe-webhook/",
        payout_apis.ConnectWebhookApi.as_view(),
        name="creator-payout-accounts-stripe-webhook",
    ),
    path("events/", engagement_apis.EventsApi.as_view(), name="events"),
]

internal_v1 = [
    path("sources/", video_internal_apis.SourceCheckApi.as_view(), name="source-check"),
    path(
        "commissions/",
        attribution_internal_apis.OrderCommissionApi.as_view(),
        name="order-commission",
    ),
    path(
        "creator-balances/",
        payout_internal_apis.CreatorBalancesApi.as_view(),
        name="creator-balances",
    ),
]

urlpatterns = service_urlpatterns(
    service="video",
    api_v1=api_v1,
    internal_v1=internal_v1,
    admin_index_title="Creators, videos, tags and reports",
)
