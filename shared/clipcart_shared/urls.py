"""What every service's URLconf has besides its own APIs: the admin, the OpenAPI schema
and its browsable page, health checks, and the JSON error handlers."""

from __future__ import annotations

from django.contrib import admin
from django.urls import URLPattern, URLResolver, include, path
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerView

from clipcart_shared.health import health_urlpatterns

handler400 = "clipcart_shared.errors.bad_request"
handler403 = "clipcart_shared.errors.permission_denied"
handler404 = "clipcart_shared.errors.not_found"
handler500 = "clipcart_shared.errors.server_error"


def service_urlpatterns(
    *,
    service: str,
    api_v1: list[URLPattern],
    internal_v1: list[URLPattern] | None = None,
    admin_index_title: str = "",
) -> list[URLPattern | URLResolver]:
    """`/api/v1/…`, `/internal/v1/…`, `/<service>/admin/`, `/api/schema/`, `/api/docs/`,
    `/healthz` and `/readyz`."""
    admin.site.site_header = admin.site.site_title = f"clipcart {service}"
    admin.site.index_title = admin_index_title or f"clipcart {service}"
    patterns: list[URLPattern | URLResolver] = [path("api/v1/", include(api_v1))]
    if internal_v1:
        patterns.append(path("internal/v1/", include(internal_v1)))
    return [
        *patterns,
        path(f"{service}/admin/", admin.site.urls),
        path("api/schema/", SpectacularAPIView.as_view(), name="schema"),
        # Relative, so the page finds its schema both here and behind the gateway, which
        # serves it as /<service>/api/docs/ (infra/gateway).
        path("api/docs/", SpectacularSwaggerView.as_view(url="../schema/"), name="docs"),
        *health_urlpatterns(),
    ]
