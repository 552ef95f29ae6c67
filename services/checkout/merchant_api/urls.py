"""`/api/v1/merchant/`: orders to ship, shipments, deliveries (`apis`) and returns
(`return_apis`)."""

from django.urls import path

from merchant_api import apis, return_apis

urlpatterns = [
    path("orders/", apis.MerchantOrderListApi.as_view(), name="merchant-order-list"),
    path(
        "orders/<uuid:order_id>/",
        apis.MerchantOrderDetailApi.as_view(),
        name="merchant-order-detail",
    ),
    path(
        "orders/<uuid:order_id>/shipments/",
        apis.MerchantShipmentCreateApi.as_view(),
        name="merchant-shipment-create",
    ),
    path(
        "shipments/<uuid:shipment_id>/delivered/",
        apis.MerchantShipmentDeliveredApi.as_view(),
        name="merchant-shipment-delivered",
    ),
    path("returns/", return_apis.MerchantReturnListApi.as_view(), name="merchant-return-list"),
    path(
        "returns/<uuid:return_id>/approve/",
        return_apis.MerchantReturnApproveApi.as_view(),
        name="merchant-return-approve",
    ),
    path(
        "returns/<uuid:return_id>/reject/",
        return_apis.MerchantReturnRejectApi.as_view(),
        name="merchant-return-reject",
    ),
    path(
        "returns/<uuid:return_id>/received/",
        return_apis.MerchantReturnReceivedApi.as_view(),
        name="merchant-return-received",
    ),
]
