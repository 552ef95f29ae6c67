"""Who is calling: mobile users (Bearer JWT from the host app) and other services.

Users and services never share a credential: user tokens arrive as `Bearer` and must
carry `aud=clipcart`; service tokens arrive as `Service`, are signed with the service
keys and carry `aud=clipcart-internal`. A user token can therefore never pass as a
service, even if someone configured the same secret for both.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import jwt
from django.conf import settings
from drf_spectacular.extensions import OpenApiAuthenticationExtension
from rest_framework import authentication, exceptions, permissions
from rest_framework.request import Request

from clipcart_shared import tokens
from clipcart_shared.tokens import SERVICE_AUDIENCE, USER_AUDIENCE

# A user id is the identity provider's `sub`; bound its size before it reaches a column.
MAX_USER_ID_LENGTH = 128


@dataclass(frozen=True)
class MobileUser:
    """A mobile app user, known only by the identity provider's subject id."""

    id: str
    is_authenticated: bool = True
    is_service: bool = False
    is_staff: bool = False


@dataclass(frozen=True)
class ServicePrincipal:
    """Another clipcart service calling an `/internal/` endpoint."""

    name: str
    is_authenticated: bool = True
    is_service: bool = True
    is_staff: bool = False

    @property
    def id(self) -> str:
        return f"service:{self.name}"


def _user_verification() -> tuple[str, list[str]]:
    """The key and algorithm list to verify user tokens with: RS256 wins over HS256."""
    if settings.JWT_PUBLIC_KEY:
        return settings.JWT_PUBLIC_KEY, ["RS256"]
    if settings.JWT_HS256_SECRET:
        return settings.JWT_HS256_SECRET, ["HS256"]
    raise exceptions.AuthenticationFailed("User authentication is not configured.")


def user_token_decode(token: str) -> dict[str, Any]:
    """Verify a user token's signature, expiry and audience; return its claims."""
    key, algorithms = _user_verification()
    try:
        claims: dict[str, Any] = jwt.decode(
            token,
            key,
            algorithms=algorithms,
            audience=USER_AUDIENCE,
            options={"require": ["sub", "exp", "aud"]},
            leeway=settings.JWT_LEEWAY_SECONDS,
        )
    except jwt.ExpiredSignatureError as error:
        raise exceptions.AuthenticationFailed("The token has expired.") from error
    except jwt.InvalidAudienceError as error:
        raise exceptions.AuthenticationFailed("The token is not meant for clipcart.") from error
    except jwt.PyJWTError as error:
        raise exceptions.AuthenticationFailed("The token is not valid.") from error
    subject = claims["sub"]
    if not isinstance(subject, str) or not subject or len(subject) > MAX_USER_ID_LENGTH:
        raise exceptions.AuthenticationFailed("The token's subject is not valid.")
    return claims


def user_token_mint(*, user_id: str, ttl_seconds: int = 3600) -> str:
    """Mint a user token with the configured local HS256 secret (local runs and tests)."""
    return tokens.user_token_mint(
        user_id=user_id, secret=settings.JWT_HS256_SECRET, ttl_seconds=ttl_seconds
    )


def service_token_mint(*, service: str | None = None) -> str:
    """A short-lived service credential, signed with the first (current) service key."""
    keys = settings.SERVICE_AUTH_KEYS
    if not keys:
        raise RuntimeError("SERVICE_AUTH_KEYS is empty; services cannot call each other.")
    return tokens.service_token_mint(issuer=service or settings.SERVICE_NAME, key=keys[0])


def service_token_decode(token: str) -> dict[str, Any]:
    """Verify a service token against every configured key, so keys can be rotated."""
    for key in settings.SERVICE_AUTH_KEYS:
        try:
            claims: dict[str, Any] = jwt.decode(
                token,
                key,
                algorithms=["HS256"],
                audience=SERVICE_AUDIENCE,
                options={"require": ["iss", "exp", "aud"]},
                leeway=settings.JWT_LEEWAY_SECONDS,
            )
        except jwt.InvalidSignatureError:
            continue
        except jwt.PyJWTError as error:
            raise exceptions.AuthenticationFailed("The service token is not valid.") from error
        return claims
    raise exceptions.AuthenticationFailed("The service token is not valid.")


def _credentials(request: Request, scheme: str) -> str | None:
    header = authentication.get_authorization_header(request).split()
    if not header or header[0].lower() != scheme.lower().encode():
        return None
    if len(header) != 2:
        raise exceptions.AuthenticationFailed("The Authorization header is malformed.")
    try:
        return header[1].decode("ascii")
    except UnicodeError as error:
        raise exceptions.AuthenticationFailed("The Authorization header is malformed.") from error


class MobileUserAuthentication(authentication.BaseAuthentication):
    """`Authorization: Bearer <JWT>` issued by the host app's identity provider."""

    def authenticate(self, request: Request) -> tuple[MobileUser, dict[str, Any]] | None:
        token = _credentials(request, "Bearer")
        if token is None:
            return None
        claims = user_token_decode(token)
        return MobileUser(id=claims["sub"]), claims

    def authenticate_header(self, request: Request) -> str:
        return 'Bearer realm="clipcart"'


class ServiceAuthentication(authentication.BaseAuthentication):
    """`Authorization: Service <JWT>` signed with a service key."""

    def authenticate(self, request: Request) -> tuple[ServicePrincipal, dict[str, Any]] | None:
        token = _credentials(request, "Service")
        if token is None:
            return None
        claims = service_token_decode(token)
        return ServicePrincipal(name=str(claims["iss"])), claims

    def authenticate_header(self, request: Request) -> str:
        return 'Service realm="clipcart-internal"'


class IsService(permissions.BasePermission):
    """Only another service may call: a user token is authenticated but forbidden (403)."""

    message = "Only clipcart services may call this endpoint."

    def has_permission(self, request: Request, view: Any) -> bool:
        return bool(getattr(request.user, "is_service", False))


class IsMobileUser(permissions.BasePermission):
    """A signed-in mobile user."""

    message = "Sign in to do this."

    def has_permission(self, request: Request, view: Any) -> bool:
        user = request.user
        return bool(user and user.is_authenticated and isinstance(user, MobileUser))


class InternalAPIMixin:
    """Mixed into `/internal/` views: service credentials only."""

    authentication_classes = [ServiceAuthentication, MobileUserAuthentication]
    permission_classes = [IsService]


class _BearerScheme(OpenApiAuthenticationExtension):  # type: ignore[no-untyped-call]
    target_class = "clipcart_shared.auth.MobileUserAuthentication"
    name = "mobileUser"

    def get_security_requirement(self, auto_schema: Any) -> dict[str, list[str]] | None:
        # `/internal/` views run this authentication only so that a user token is answered
        # 403, not 401: it is no way in, so their schema does not offer it.
        if isinstance(auto_schema.view, InternalAPIMixin):
            return None
        return {self.name: []}

    def get_security_definition(self, auto_schema: Any) -> dict[str, str]:
        return {"type": "http", "scheme": "bearer", "bearerFormat": "JWT"}


class _ServiceScheme(OpenApiAuthenticationExtension):  # type: ignore[no-untyped-call]
    target_class = "clipcart_shared.auth.ServiceAuthentication"
    name = "service"

    def get_security_definition(self, auto_schema: Any) -> dict[str, str]:
        return {
            "type": "apiKey",
            "in": "header",
            "name": "Authorization",
            "description": "`Service <JWT>` signed with a service key.",
        }


def mobile_user_id(request: Request) -> str:
    """The signed-in mobile user's id (JWT `sub`); 401 for anyone else."""
    user = request.user
    if not isinstance(user, MobileUser):
        raise exceptions.NotAuthenticated()
    return user.id


def optional_mobile_user_id(request: Request) -> str | None:
    """The mobile user's id, or None for an anonymous caller."""
    user = request.user
    return user.id if isinstance(user, MobileUser) else None
