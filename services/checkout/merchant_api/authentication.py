"""`Authorization: MerchantKey <key>`: a merchant's own systems. Never a user token or a
service credential, and neither of those passes here (ADR "merchant API keys")."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from typing import Any

from drf_spectacular.extensions import OpenApiAuthenticationExtension
from rest_framework import authentication, exceptions, permissions
from rest_framework.request import Request

from merchant_api.services import merchant_api_key_authenticate

SCHEME = "MerchantKey"


@dataclass(frozen=True)
class MerchantPrincipal:
    """A merchant's system, known by its key."""

    merchant_id: uuid.UUID
    key_id: uuid.UUID
    is_authenticated: bool = True
    is_service: bool = False
    is_staff: bool = False

    @property
    def id(self) -> str:
        # The Idempotency-Key scope: keys of one merchant's system never meet another's.
        return f"merchant-key:{self.key_id}"


class MerchantKeyAuthentication(authentication.BaseAuthentication):
    def authenticate(self, request: Request) -> tuple[MerchantPrincipal, None] | None:
        header = authentication.get_authorization_header(request).split()
        if not header or header[0].lower() != SCHEME.lower().encode():
            return None
        if len(header) != 2:
            raise exceptions.AuthenticationFailed("The Authorization header is malformed.")
        try:
            key = header[1].decode("ascii")
        except UnicodeError as error:
            raise exceptions.AuthenticationFailed("The key is not valid.") from error
        row = merchant_api_key_authenticate(key=key)
        if row is None:
            raise exceptions.AuthenticationFailed("The key is unknown or revoked.")
        return MerchantPrincipal(merchant_id=row.merchant_id, key_id=row.id), None

    def authenticate_header(self, request: Request) -> str:
        return f'{SCHEME} realm="clipcart-merchant"'


class IsMerchantSystem(permissions.BasePermission):
    message = "Call with a merchant API key."

    def has_permission(self, request: Request, view: Any) -> bool:
        return isinstance(request.user, MerchantPrincipal)


def request_merchant_id(request: Request) -> uuid.UUID:
    user = request.user
    if not isinstance(user, MerchantPrincipal):
        raise exceptions.NotAuthenticated()
    return user.merchant_id


class _MerchantKeyScheme(OpenApiAuthenticationExtension):  # type: ignore[no-untyped-call]
    target_class = "merchant_api.authentication.MerchantKeyAuthentication"
    name = "merchantKey"

    def get_security_definition(self, auto_schema: Any) -> dict[str, str]:
        return {
            "type": "apiKey",
            "in": "header",
            "name": "Authorization",
            "description": "`MerchantKey <key>`, made by the merchant's staff in the admin.",
        }
