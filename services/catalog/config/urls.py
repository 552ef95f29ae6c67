from django.urls import path

from clipcart_shared.urls import (  # noqa: F401 (Django reads the handlers here)
    handler400,
    handler403,
    handler404,
    handler500,
    service_urlpatterns,
)
from inventory import apis as inventory_apis
from products import apis as product_apis
from promotions import apis as promotion_apis
from staff import apis as staff_apis

api_v1 = [
    path("products/", product_apis.ProductListApi.as_view(), name="product-list"),
    path(
        "products/<uuid:product_id>/",
        product_apis.ProductDetailApi.as_view(),
        name="product-detail",
    ),
]

internal_v1 = [
    path(
        "staff-sessions/",
        staff_apis.StaffSessionCreateApi.as_view(),
        name="staff-session-create",
    ),
    path(
        "staff-sessions/check/",
        staff_apis.StaffSessionCheckApi.as_view(),
        name="staff-session-check",
    ),
    path(
        "staff-sessions/revoke/",
        staff_apis.StaffSessionRevokeApi.as_view(),
        name="staff-session-revoke",
    ),
    path("quotes/", promotion_apis.QuoteApi.as_view(), name="quote-create"),
    path(
        "creator-code-requests/",
        promotion_apis.CreatorCodeRequestCreateApi.as_view(),
        name="creator-code-request-create",
    ),
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
    path("restocks/", inventory_apis.RestockCreateApi.as_view(), name="restock-create"),
]

urlpatterns = service_urlpatterns(
    service="catalog",
    api_v1=api_v1,
    internal_v1=internal_v1,
    admin_index_title="Products, variants and stock",
)
