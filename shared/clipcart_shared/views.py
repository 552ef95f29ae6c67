"""The two kinds of API view every service builds on."""

from rest_framework.views import APIView

from clipcart_shared.auth import InternalAPIMixin
from clipcart_shared.idempotency.views import IdempotentMixin


class PublicApiView(IdempotentMixin, APIView):
    """`/api/v1/`: mobile users (Bearer JWT) or anonymous; `Idempotency-Key` on any POST."""


class InternalApiView(InternalAPIMixin, IdempotentMixin, APIView):
    """`/internal/v1/`: other services only (401 without a credential, 403 for a user)."""
