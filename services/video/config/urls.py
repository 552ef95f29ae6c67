from django.contrib import admin
from django.urls import include, path
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerView

from clipcart_shared.health import health_urlpatterns
from creators import apis as creator_apis
from engagement import apis as engagement_apis
from videos import apis as video_apis

api_v1 = [
    path("feed/", video_apis.FeedApi.as_view(), name="feed"),
    path("videos/", video_apis.VideoCreateApi.as_view(), name="video-create"),
    path("videos/<uuid:video_id>/", video_apis.VideoApi.as_view(), name="video-detail"),
    path(
        "videos/<uuid:video_id>/publish/",
        video_apis.VideoPublishApi.as_view(),
        name="video-publish",
    ),
    path("videos/<uuid:video_id>/tags/", video_apis.TagCreateApi.as_view(), name="tag-create"),
    path(
        "videos/<uuid:video_id>/tags/<uuid:tag_id>/",
        video_apis.TagApi.as_view(),
        name="tag-detail",
    ),
    path("creators/", creator_apis.CreatorCreateApi.as_view(), name="creator-create"),
    path("creators/me/", creator_apis.CreatorMeApi.as_view(), name="creator-me"),
    path("events/", engagement_apis.EventsApi.as_view(), name="events"),
]

urlpatterns = [
    path("api/v1/", include(api_v1)),
    path("video/admin/", admin.site.urls),
    path("api/schema/", SpectacularAPIView.as_view(), name="schema"),
    path("api/docs/", SpectacularSwaggerView.as_view(url_name="schema"), name="docs"),
    *health_urlpatterns(),
]

handler400 = "clipcart_shared.errors.bad_request"
handler403 = "clipcart_shared.errors.permission_denied"
handler404 = "clipcart_shared.errors.not_found"
handler500 = "clipcart_shared.errors.server_error"

admin.site.site_header = "clipcart video"
admin.site.site_title = "clipcart video"
admin.site.index_title = "Creators, videos, tags and reports"
