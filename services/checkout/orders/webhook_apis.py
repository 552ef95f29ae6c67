"""The webhooks checkout receives: Stripe's events and carriers' tracking statuses, each
authenticated by its signature on the raw body."""

from __future__ import annotations

from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import serializers
from rest_framework.request import Request
from rest_framework.response import Response

from clipcart_shared.serializers import CharField
from clipcart_shared.views import PublicApiView
from orders.services import stripe_webhook_accept
from orders.services.tracking import (
    SIGNATURE_HEADER,
    TRACKING_STATUSES,
    tracking_event_apply,
    tracking_signature_verify,
)


class WebhookAnswerSerializer(serializers.Serializer):
    received = serializers.BooleanField()
    duplicate = serializers.BooleanField()


class StripeWebhookApi(PublicApiView):
    # Stripe authenticates by signature, not by token.
    authentication_classes: list[type] = []
    permission_classes: list[type] = []

    @extend_schema(
        operation_id="stripe_webhook",
        request={"application/json": dict},
        responses={200: WebhookAnswerSerializer},
        description="Signature checked on the raw body (400 `invalid_signature`, nothing "
        "written). Answers at once; the worker applies the event, once.",
    )
    def post(self, request: Request) -> Response:
        _, is_new = stripe_webhook_accept(
            payload=request.body, signature=request.headers.get("Stripe-Signature", "")
        )
        return Response({"received": True, "duplicate": not is_new})


class TrackingWebhookAnswerSerializer(serializers.Serializer):
    received = serializers.BooleanField()
    matched = serializers.BooleanField(help_text="Whether a shipment has this tracking number.")


class TrackingWebhookApi(PublicApiView):
    """A carrier's (or tracking aggregator's) status of a parcel, signed."""

    # The sender authenticates by signature, not by token.
    authentication_classes: list[type] = []
    permission_classes: list[type] = []

    class TrackingEventSerializer(serializers.Serializer):
        tracking_number = CharField(max_length=100)
        carrier = CharField(max_length=60)
        status = serializers.ChoiceField(TRACKING_STATUSES)
        occurred_at = serializers.DateTimeField()

    @extend_schema(
        operation_id="tracking_webhook",
        request=TrackingEventSerializer,
        responses={200: TrackingWebhookAnswerSerializer},
        parameters=[
            OpenApiParameter(
                SIGNATURE_HEADER,
                str,
                OpenApiParameter.HEADER,
                required=True,
                description="`t=<unix>,v1=<hex HMAC-SHA256 of '<t>.' + raw body>`",
            )
        ],
        description="Signature checked on the raw body first (400 `invalid_signature`, "
        "nothing written; 300 s tolerance). `delivered` delivers the shipment; "
        "`in_transit` and `exception` are shown on it. An unknown tracking number is "
        "answered `matched: false`; a replay changes nothing.",
    )
    def post(self, request: Request) -> Response:
        tracking_signature_verify(
            payload=request.body, header=request.headers.get(SIGNATURE_HEADER, "")
        )
        data = self.TrackingEventSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        matched = tracking_event_apply(**data.validated_data)
        return Response({"received": True, "matched": matched})
