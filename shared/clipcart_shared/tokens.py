"""Minting tokens, free of Django so the `clipcart token` command can use it directly."""

from __future__ import annotations

import time
import uuid

import jwt

USER_AUDIENCE = "clipcart"
SERVICE_AUDIENCE = "clipcart-internal"
SERVICE_TOKEN_SECONDS = 60


def user_token_mint(*, user_id: str, secret: str, ttl_seconds: int = 3600) -> str:
    """A mobile-user token signed with the local HS256 secret. Local runs and tests only:
    in production the host app's identity provider issues RS256 tokens."""
    if not secret:
        raise RuntimeError("JWT_HS256_SECRET is not set; tokens can only be minted locally.")
    now = int(time.time())
    claims = {"sub": user_id, "aud": USER_AUDIENCE, "iat": now, "exp": now + ttl_seconds}
    return jwt.encode(claims, secret, algorithm="HS256")


def service_token_mint(*, issuer: str, key: str, ttl_seconds: int = SERVICE_TOKEN_SECONDS) -> str:
    """A short-lived service credential signed with `key` (the first of SERVICE_AUTH_KEYS)."""
    now = int(time.time())
    claims = {
        "iss": issuer,
        "aud": SERVICE_AUDIENCE,
        "iat": now,
        "exp": now + ttl_seconds,
        "jti": uuid.uuid4().hex,
    }
    return jwt.encode(claims, key, algorithm="HS256")
