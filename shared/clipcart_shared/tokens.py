"""Minting tokens, free of Django so the `clipcart token` command can use it directly."""

from __future__ import annotations

import time

import jwt

USER_AUDIENCE = "clipcart"
SERVICE_AUDIENCE = "clipcart-internal"


def user_token_mint(*, user_id: str, secret: str, ttl_seconds: int = 3600) -> str:
    """A mobile-user token signed with the local HS256 secret. Local runs and tests only:
    in production the host app's identity provider issues RS256 tokens."""
    if not secret:
        raise RuntimeError("JWT_HS256_SECRET is not set; tokens can only be minted locally.")
    now = int(time.time())
    claims = {"sub": user_id, "aud": USER_AUDIENCE, "iat": now, "exp": now + ttl_seconds}
    return jwt.encode(claims, secret, algorithm="HS256")
