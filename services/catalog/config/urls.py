from django.contrib import admin
from django.urls import include, path
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerView

from clipcart_shared.health import health_urlpatterns
from inventory import apis as inventory_apis
from products import apis as product_apis

api_v1 = [
    path("products/", product_apis.ProductListApi.as_view(), name="product-list"),
    path(
        "products/<uuid:product_id>/",
        product_apis.ProductDetailApi.as_view(),
        name="product-detail",
    ),
]

internal_v1 = [
    path("quotes/", product_apis.QuoteApi.as_view(), name="quote-create"),
    path("reservations/", inventory_apis.ReservationCreateApi.as_view(), name="reservation-create"),
    path(
        "reservations/<uuid:reservation_id>/",
        inventory_apis.ReservationDetailApi.as_view(),
        name="reservation-detail",
    ),
    path(
        "reservations/<uuid:reservation_id>/commit/",
        inventory_apis.ReservationCommitApi.as_view(),
        name="reservation-commit",
    ),
    path(
        "reservations/<uuid:reservation_id>/release/",
        inventory_apis.ReservationReleaseApi.as_view(),
        name="reservation-release",
    ),
]

urlpatterns = [
    path("api/v1/", include(api_v1)),
    path("internal/v1/", include(internal_v1)),
    path("catalog/admin/", admin.site.urls),
    path("api/schema/", SpectacularAPIView.as_view(), name="schema"),
    path("api/docs/", SpectacularSwaggerView.as_view(url_name="schema"), name="docs"),
    *health_urlpatterns(),
]

handler400 = "clipcart_shared.errors.bad_request"
handler403 = "clipcart_shared.errors.permission_denied"
handler404 = "clipcart_shared.errors.not_found"
handler500 = "clipcart_shared.errors.server_error"

admin.site.site_header = "clipcart catalog"
admin.site.site_title = "clipcart catalog"
admin.site.index_title = "Products, variants and stock"
