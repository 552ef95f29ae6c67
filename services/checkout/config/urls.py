from django.contrib import admin
from django.urls import include, path
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerView

from carts import apis as cart_apis
from clipcart_shared.health import health_urlpatterns
from orders import apis as order_apis
from payments import apis as payment_apis

api_v1 = [
    path("cart/", cart_apis.CartApi.as_view(), name="cart"),
    path("cart/lines/", cart_apis.CartLineAddApi.as_view(), name="cart-line-add"),
    path("cart/lines/<uuid:line_id>/", cart_apis.CartLineApi.as_view(), name="cart-line"),
    path("checkouts/", order_apis.CheckoutCreateApi.as_view(), name="checkout-create"),
    path("orders/", order_apis.OrderListApi.as_view(), name="order-list"),
    path("orders/<uuid:order_id>/", order_apis.OrderDetailApi.as_view(), name="order-detail"),
    path(
        "orders/<uuid:order_id>/cancel/",
        order_apis.OrderCancelApi.as_view(),
        name="order-cancel",
    ),
    path("webhooks/stripe/", payment_apis.StripeWebhookApi.as_view(), name="stripe-webhook"),
]

urlpatterns = [
    path("api/v1/", include(api_v1)),
    path("checkout/admin/", admin.site.urls),
    path("api/schema/", SpectacularAPIView.as_view(), name="schema"),
    path("api/docs/", SpectacularSwaggerView.as_view(url_name="schema"), name="docs"),
    *health_urlpatterns(),
]

handler400 = "clipcart_shared.errors.bad_request"
handler403 = "clipcart_shared.errors.permission_denied"
handler404 = "clipcart_shared.errors.not_found"
handler500 = "clipcart_shared.errors.server_error"

admin.site.site_header = "clipcart checkout"
admin.site.site_title = "clipcart checkout"
admin.site.index_title = "Orders, payments and refunds"
