"""The order events again, for other services (internal): a subscriber that may have lost
a delivery reconciles against them."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from django.utils import timezone
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import serializers
from rest_framework.request import Request
from rest_framework.response import Response

from clipcart_shared.pagination import CursorPagination, limit_parameter
from clipcart_shared.serializers import QuerySerializer
from clipcart_shared.views import InternalApiView
from orders.events import (
    ORDER_DELIVERED,
    ORDER_PAID,
    ORDER_REFUNDED,
    ORDER_RETURN_CLOSED,
    ORDER_RETURN_REQUESTED,
    order_delivered_event,
    order_paid_event,
    order_refunded_event,
    order_return_closed_event,
    order_return_requested_event,
)
from orders.selectors import (
    orders_paid_between,
    refunds_published_between,
    returns_closed_between,
    returns_requested_between,
    shipments_delivered_between,
)

ORDER_EVENTS_MAX_WINDOW = timedelta(days=7)
ORDER_EVENT_TYPES = [
    ORDER_PAID,
    ORDER_REFUNDED,
    ORDER_DELIVERED,
    ORDER_RETURN_REQUESTED,
    ORDER_RETURN_CLOSED,
]


class OrderEventSerializer(serializers.Serializer):
    type = serializers.ChoiceField(ORDER_EVENT_TYPES)
    subject = serializers.CharField(help_text="The order id.")
    data = serializers.DictField(help_text="The event's `data`.")  # type: ignore[assignment]


class OrderEventListApi(InternalApiView):
    """The `order.paid` or `order.refunded` events of a time window, built again from the
    orders: a subscriber that may have lost a delivery (a worker killed while holding it)
    compares them with what it applied (video's attribution reconciliation)."""

    class FilterSerializer(QuerySerializer):
        type = serializers.ChoiceField(ORDER_EVENT_TYPES)
        since = serializers.DateTimeField(
            help_text="Paid (refunded, delivered, requested, closed) at or after this time."
        )
        until = serializers.DateTimeField(
            required=False, help_text="Before this time; default now. At most 7 days after since."
        )

        def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
            until = attrs.setdefault("until", timezone.now())
            if until <= attrs["since"]:
                raise serializers.ValidationError({"until": "Must be after since."})
            if until - attrs["since"] > ORDER_EVENTS_MAX_WINDOW:
                raise serializers.ValidationError({"until": "At most 7 days after since."})
            return attrs

    class Pagination(CursorPagination):
        page_size = 100

    @extend_schema(
        operation_id="order_events_list",
        parameters=[
            FilterSerializer,
            OpenApiParameter("cursor", str, description="From the previous page's `next`."),
            limit_parameter(default=100),
        ],
        responses=OrderEventSerializer(many=True),
        description="Orders paid (`type=order.paid`), refunds made (`type=order.refunded`), "
        "shipments delivered (`type=order.delivered`), returns requested "
        "(`type=order.return_requested`) or closed (`type=order.return_closed`) in "
        "[since, until), oldest first, as the `data` their events carry.",
    )
    def get(self, request: Request) -> Response:
        filters = self.FilterSerializer(data=request.query_params)
        filters.is_valid(raise_exception=True)
        window = {
            "since": filters.validated_data["since"],
            "until": filters.validated_data["until"],
        }
        paginator = self.Pagination()
        if filters.validated_data["type"] == ORDER_PAID:
            paginator.ordering = ("paid_at", "id")
            orders = paginator.paginate_queryset(orders_paid_between(**window), request, view=self)
            events = [order_paid_event(order) for order in orders or []]
        elif filters.validated_data["type"] == ORDER_DELIVERED:
            paginator.ordering = ("delivered_at", "id")
            shipments = paginator.paginate_queryset(
                shipments_delivered_between(**window), request, view=self
            )
            events = [order_delivered_event(shipment) for shipment in shipments or []]
        elif filters.validated_data["type"] == ORDER_REFUNDED:
            paginator.ordering = ("created_at", "id")
            refunds = paginator.paginate_queryset(
                refunds_published_between(**window), request, view=self
            )
            events = [order_refunded_event(refund.order, refund) for refund in refunds or []]
        elif filters.validated_data["type"] == ORDER_RETURN_REQUESTED:
            paginator.ordering = ("requested_at", "id")
            returns = paginator.paginate_queryset(
                returns_requested_between(**window), request, view=self
            )
            events = [order_return_requested_event(r) for r in returns or []]
        else:
            paginator.ordering = ("closed_at", "id")
            returns = paginator.paginate_queryset(
                returns_closed_between(**window), request, view=self
            )
            events = [order_return_closed_event(r) for r in returns or []]
        return paginator.get_paginated_response(events)
