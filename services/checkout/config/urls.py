from django.urls import include, path

from carts import apis as cart_apis
from clipcart_shared.urls import (  # noqa: F401 (Django reads the handlers here)
    handler400,
    handler403,
    handler404,
    handler500,
    service_urlpatterns,
)
from orders import apis as order_apis
from orders import event_apis, return_apis, webhook_apis
from payments import internal_apis as payment_internal_apis

api_v1 = [
    path("cart/", cart_apis.CartApi.as_view(), name="cart"),
    path("cart/lines/", cart_apis.CartLineAddApi.as_view(), name="cart-line-add"),
    path("cart/lines/<uuid:line_id>/", cart_apis.CartLineApi.as_view(), name="cart-line"),
    path("cart/discount/", cart_apis.CartDiscountAddApi.as_view(), name="cart-discount-add"),
    path("cart/discount/<str:code>/", cart_apis.CartDiscountApi.as_view(), name="cart-discount"),
    path("checkouts/", order_apis.CheckoutCreateApi.as_view(), name="checkout-create"),
    path("orders/", order_apis.OrderListApi.as_view(), name="order-list"),
    path("orders/<uuid:order_id>/", order_apis.OrderDetailApi.as_view(), name="order-detail"),
    path(
        "orders/<uuid:order_id>/cancel/",
        order_apis.OrderCancelApi.as_view(),
        name="order-cancel",
    ),
    path(
        "orders/<uuid:order_id>/returns/",
        return_apis.OrderReturnsApi.as_view(),
        name="order-returns",
    ),
    path("webhooks/stripe/", webhook_apis.StripeWebhookApi.as_view(), name="stripe-webhook"),
    path("webhooks/tracking/", webhook_apis.TrackingWebhookApi.as_view(), name="tracking-webhook"),
    path("merchant/", include("merchant_api.urls")),
]

internal_v1 = [
    path("order-events/", event_apis.OrderEventListApi.as_view(), name="order-event-list"),
    path(
        "creator-payouts/",
        payment_internal_apis.CreatorPayoutRecordApi.as_view(),
        name="creator-payout-record",
    ),
]

urlpatterns = service_urlpatterns(
    service="checkout",
    api_v1=api_v1,
    internal_v1=internal_v1,
    admin_index_title="Orders, payments and refunds",
)
