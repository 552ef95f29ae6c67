"""Stripe's webhook endpoint."""

from __future__ import annotations

from drf_spectacular.utils import extend_schema
from rest_framework import serializers
from rest_framework.request import Request
from rest_framework.response import Response

from clipcart_shared.errors import ApplicationError
from clipcart_shared.views import PublicApiView
from core.errors import CheckoutErrorCode
from payments import stripe_api
from payments.services import webhook_receive


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
        try:
            _, is_new = webhook_receive(
                payload=request.body, signature=request.headers.get("Stripe-Signature", "")
            )
        except stripe_api.InvalidSignature as error:
            raise ApplicationError(
                CheckoutErrorCode.INVALID_SIGNATURE, str(error), status=400
            ) from error
        return Response({"received": True, "duplicate": not is_new})
