"""The admins that trust catalog's sign-in (video, checkout): who the shared cookie is.

`TrustedSignInMiddleware` (after Django's AuthenticationMiddleware) turns a valid
`clipcart_console` cookie into the signed-in admin user: catalog answers who the token
belongs to and which merchants they work for (`POST /internal/v1/staff-sessions/check/`),
the answer is kept in the cache for `CONSOLE_RECHECK_SECONDS` (≤ 60: a user removed from
a merchant, deactivated or signed out loses access here within that), and each fresh
answer is mirrored into a local user row (no usable password: passwords are checked at
catalog alone) and its `MerchantMembership` rows, which the admin scoping reads exactly
as before. `console_sign_in` passes a login form's username and password on to catalog
(`POST /internal/v1/staff-sessions/`), which opens the sign-in.
"""

from __future__ import annotations

import logging
import uuid
from dataclasses import dataclass
from typing import Any

from django.conf import settings
from django.contrib.auth import get_user_model
from django.contrib.auth.models import AnonymousUser, Group, Permission
from django.core.cache import cache
from django.db import IntegrityError, transaction
from django.db.models import Q
from django.http import HttpRequest, HttpResponse

from clipcart_shared.clients import service_client
from clipcart_shared.console.cookie import (
    ConsoleCookieExpired,
    ConsoleCookieInvalid,
    console_cookie_raw,
    console_token_hash,
    console_token_load,
)
from clipcart_shared.http import ServiceRejected, ServiceUnavailable

logger = logging.getLogger(__name__)

SIGN_IN_PATH = "/internal/v1/staff-sessions/"
CHECK_PATH = "/internal/v1/staff-sessions/check/"
REVOKE_PATH = "/internal/v1/staff-sessions/revoke/"
# Checking a password is slow on purpose (PBKDF2), more so on a loaded catalog; a person
# at catalog's own login form would wait as long.
SIGN_IN_READ_TIMEOUT = 25.0
MERCHANT_STAFF_GROUP = "Merchant staff"
# Why the request carries no user although it had a cookie (the login page says it).
NOTICE_ATTRIBUTE = "_clipcart_console_notice"
NOTICE_EXPIRED = "expired"
NOTICE_ENDED = "ended"


class SignInUnverifiable(Exception):
    """Catalog, which knows the sign-ins, cannot be reached: the admin answers 503."""


class SignInRefused(Exception):
    """Catalog refused a username and password typed into this admin's login form:
    wrong ones (`is_locked_out` False), or a lockout (True), which lasts catalog's
    `cooloff_seconds` (None: not said, or until lifted by hand)."""

    def __init__(
        self, message: str, *, is_locked_out: bool, cooloff_seconds: int | None = None
    ) -> None:
        super().__init__(message)
        self.is_locked_out = is_locked_out
        self.cooloff_seconds = cooloff_seconds


def _cooloff_seconds(problem: dict[str, Any]) -> int | None:
    """Catalog's cool-off from its lockout answer, when it is a whole number of seconds."""
    value = problem.get("cooloff_seconds")
    if isinstance(value, int) and not isinstance(value, bool) and value >= 0:
        return value
    return None


@dataclass(frozen=True)
class StaffAnswer:
    username: str
    email: str
    first_name: str
    last_name: str
    is_superuser: bool
    merchants: tuple[tuple[uuid.UUID, str], ...]

    @classmethod
    def from_json(cls, body: dict[str, Any]) -> StaffAnswer:
        return cls(
            username=str(body["username"]),
            email=str(body.get("email") or ""),
            first_name=str(body.get("first_name") or ""),
            last_name=str(body.get("last_name") or ""),
            is_superuser=bool(body["is_superuser"]),
            merchants=tuple(
                (uuid.UUID(str(item["id"])), str(item["name"])) for item in body["merchants"]
            ),
        )


def _cache_key(token: str) -> str:
    return f"clipcart:console:{console_token_hash(token)}"


def staff_answer_fetch(token: str) -> StaffAnswer | None:
    """Catalog's answer for `token` (None: no such live sign-in)."""
    try:
        body = service_client("catalog").post(CHECK_PATH, json={"token": token})
    except ServiceRejected as error:
        if error.status in (400, 404):
            return None
        raise SignInUnverifiable(str(error)) from error
    except ServiceUnavailable as error:
        raise SignInUnverifiable(str(error)) from error
    return StaffAnswer.from_json(body)


def _staff_group() -> Group:
    group, created = Group.objects.get_or_create(name=MERCHANT_STAFF_GROUP)
    if created or not group.permissions.exists():
        wanted = Q()
        for name in settings.CONSOLE_STAFF_PERMISSIONS:
            app_label, codename = name.split(".", 1)
            wanted |= Q(content_type__app_label=app_label, codename=codename)
        group.permissions.add(*Permission.objects.filter(wanted))
    return group


def local_user_mirror(answer: StaffAnswer) -> Any:
    """The local user for catalog's answer, created or brought up to date, with exactly
    the merchant memberships catalog lists. Safe under concurrent first requests."""
    from clipcart_shared.merchant_access.models import MerchantMembership

    users = get_user_model()
    defaults = {
        "email": answer.email,
        "first_name": answer.first_name,
        "last_name": answer.last_name,
        "is_staff": True,
        "is_active": True,
        "is_superuser": answer.is_superuser,
    }
    for attempt in range(2):
        try:
            with transaction.atomic():
                user, created = users.objects.update_or_create(
                    username=answer.username, defaults=defaults
                )
                if created:
                    user.set_unusable_password()
                    user.save(update_fields=["password"])
                ids = [merchant_id for merchant_id, _ in answer.merchants]
                MerchantMembership.objects.filter(user=user).exclude(merchant_id__in=ids).delete()
                MerchantMembership.objects.bulk_create(
                    [
                        MerchantMembership(user=user, merchant_id=merchant_id, merchant_name=name)
                        for merchant_id, name in answer.merchants
                    ],
                    ignore_conflicts=True,
                )
                if not answer.is_superuser:
                    user.groups.add(_staff_group())
            return user
        except IntegrityError:
            if attempt:
                raise
    raise AssertionError("unreachable")


def console_user(token: str) -> Any | None:
    """The local user signed in by `token`, checked with catalog at most every
    CONSOLE_RECHECK_SECONDS; None when catalog knows no live sign-in for it."""
    key = _cache_key(token)
    user_id = cache.get(key)
    users = get_user_model()
    if user_id is not None:
        user = users.objects.filter(pk=user_id, is_active=True).first()
        if user is not None:
            return user
    answer = staff_answer_fetch(token)
    if answer is None:
        return None
    user = local_user_mirror(answer)
    cache.set(key, user.pk, timeout=settings.CONSOLE_RECHECK_SECONDS)
    return user


def console_sign_in(
    *, username: str, password: str, client_ip: str | None, user_agent: str, login_path: str
) -> str:
    """Sign in at catalog with what was typed into this admin's login form (catalog alone
    checks passwords, with its lockout, which counts `client_ip`: the browser's). Returns
    the new sign-in's token, its user already mirrored here and kept for the recheck
    interval; raises SignInRefused, or SignInUnverifiable when catalog cannot be reached.
    The password is only passed on: never stored or logged here."""
    try:
        body = service_client("catalog", read_timeout=SIGN_IN_READ_TIMEOUT).post(
            SIGN_IN_PATH,
            json={
                "username": username,
                "password": password,
                "client_ip": client_ip,
                "user_agent": user_agent[:512],
                "login_path": login_path[:512],
            },
        )
    except ServiceRejected as error:
        if error.code == "staff_login_locked_out":
            raise SignInRefused(
                str(error), is_locked_out=True, cooloff_seconds=_cooloff_seconds(error.problem)
            ) from error
        if error.code in ("staff_login_invalid", "validation_error"):
            raise SignInRefused(str(error), is_locked_out=False) from error
        raise SignInUnverifiable(str(error)) from error
    except ServiceUnavailable as error:
        raise SignInUnverifiable(str(error)) from error
    token = str(body["token"])
    user = local_user_mirror(StaffAnswer.from_json(body))
    cache.set(_cache_key(token), user.pk, timeout=settings.CONSOLE_RECHECK_SECONDS)
    return token


def console_sign_out(token: str) -> None:
    """End the sign-in at catalog (everywhere) and forget the answer kept here."""
    cache.delete(_cache_key(token))
    try:
        service_client("catalog").post(REVOKE_PATH, json={"token": token})
    except (ServiceRejected, ServiceUnavailable) as error:
        # The browser's cookie is deleted all the same, which signs it out of all three.
        logger.warning("Console sign-out not recorded at catalog", extra={"error": str(error)})


def request_console_token(request: HttpRequest) -> str | None:
    raw = console_cookie_raw(request)
    if raw is None:
        return None
    try:
        return console_token_load(raw)
    except ConsoleCookieInvalid:
        return None


class TrustedSignInMiddleware:
    """Signs the admin's requests in as the user of the shared cookie (see the module)."""

    def __init__(self, get_response: Any) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        admin_prefix = f"/{settings.SERVICE_NAME}/admin/"
        raw = console_cookie_raw(request)
        if raw is not None and request.path.startswith(admin_prefix):
            try:
                token = console_token_load(raw)
            except ConsoleCookieExpired:
                request.user = AnonymousUser()
                setattr(request, NOTICE_ATTRIBUTE, NOTICE_EXPIRED)
            except ConsoleCookieInvalid:
                request.user = AnonymousUser()
            else:
                try:
                    user = console_user(token)
                except SignInUnverifiable as error:
                    logger.warning("Console sign-in unverifiable", extra={"error": str(error)})
                    return HttpResponse(
                        "The catalog, which checks admin sign-ins, cannot be reached right "
                        "now. Nothing was changed; try again shortly.",
                        status=503,
                        content_type="text/plain; charset=utf-8",
                    )
                if user is None:
                    request.user = AnonymousUser()
                    setattr(request, NOTICE_ATTRIBUTE, NOTICE_ENDED)
                else:
                    request.user = user
        return self.get_response(request)
