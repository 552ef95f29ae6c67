"""The shared sign-in cookie: a random token, signed and timestamped with the console key.

The signature lets each admin refuse a forged or expired cookie without a call; the token
itself is what catalog knows the sign-in by (it stores only its SHA-256)."""

from __future__ import annotations

import hashlib
import secrets
from datetime import datetime, timedelta

from django.conf import settings
from django.core import signing
from django.http import HttpRequest, HttpResponse
from django.utils import timezone

CONSOLE_COOKIE = "clipcart_console"
# What the signature is for (Django signing's salt): the same in the three services.
CONSOLE_COOKIE_SALT = "clipcart.console.sign-in"


class ConsoleCookieInvalid(Exception):
    """The cookie was not signed with the console key, or is malformed."""


class ConsoleCookieExpired(ConsoleCookieInvalid):
    """The cookie was signed longer ago than `CONSOLE_SESSION_SECONDS`."""


def console_token_new() -> str:
    return secrets.token_urlsafe(32)


def console_session_expiry() -> datetime:
    """When a sign-in opened now ends: `CONSOLE_SESSION_SECONDS` from now."""
    return timezone.now() + timedelta(seconds=settings.CONSOLE_SESSION_SECONDS)


def console_token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def _signer() -> signing.TimestampSigner:
    if not settings.CONSOLE_SIGNING_KEY:
        raise RuntimeError("CONSOLE_SIGNING_KEY is empty; the admins cannot share a sign-in.")
    return signing.TimestampSigner(key=settings.CONSOLE_SIGNING_KEY, salt=CONSOLE_COOKIE_SALT)


def console_cookie_value(token: str) -> str:
    return _signer().sign(token)


def console_token_load(value: str) -> str:
    """The token of a cookie value; raises ConsoleCookieExpired / ConsoleCookieInvalid."""
    try:
        return _signer().unsign(value, max_age=settings.CONSOLE_SESSION_SECONDS)
    except signing.SignatureExpired as error:
        raise ConsoleCookieExpired(str(error)) from error
    except signing.BadSignature as error:
        raise ConsoleCookieInvalid(str(error)) from error


def console_cookie_raw(request: HttpRequest) -> str | None:
    value = request.COOKIES.get(CONSOLE_COOKIE)
    return value or None


def console_cookie_set(response: HttpResponse, value: str) -> None:
    response.set_cookie(
        CONSOLE_COOKIE,
        value,
        max_age=settings.CONSOLE_SESSION_SECONDS,
        path="/",
        secure=settings.SESSION_COOKIE_SECURE,
        httponly=True,
        samesite="Lax",
    )


def console_cookie_delete(response: HttpResponse) -> None:
    response.delete_cookie(CONSOLE_COOKIE, path="/", samesite="Lax")
