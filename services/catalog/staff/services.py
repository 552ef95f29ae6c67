"""Opening and ending staff sign-ins."""

from __future__ import annotations

from typing import Any

from axes.handlers.proxy import AxesProxyHandler
from axes.helpers import get_cool_off
from django.contrib.auth import authenticate
from django.http import HttpRequest
from django.utils import timezone

from clipcart_shared.console.cookie import (
    console_session_expiry,
    console_token_hash,
    console_token_new,
)
from clipcart_shared.errors import ApplicationError
from core.errors import CatalogErrorCode
from staff.models import StaffSession


def staff_session_open(*, user: Any) -> tuple[StaffSession, str]:
    """A new sign-in for `user`; returns it and its token (never stored)."""
    token = console_token_new()
    session = StaffSession.objects.create(
        user=user,
        token_hash=console_token_hash(token),
        expires_at=console_session_expiry(),
    )
    return session, token


def staff_session_end(*, token: str) -> bool:
    """End the sign-in of `token` (idempotent); True when one was live."""
    ended = StaffSession.objects.filter(
        token_hash=console_token_hash(token), ended_at__isnull=True
    ).update(ended_at=timezone.now())
    return ended > 0


def staff_session_end_by_id(*, session_id: Any) -> None:
    StaffSession.objects.filter(pk=session_id, ended_at__isnull=True).update(
        ended_at=timezone.now()
    )


def staff_sessions_end_for_user(*, user: Any) -> int:
    """End every live sign-in of `user` (a password change, a deactivation)."""
    return StaffSession.objects.filter(user=user, ended_at__isnull=True).update(
        ended_at=timezone.now()
    )


def _login_attempt(*, client_ip: str | None, user_agent: str, login_path: str) -> HttpRequest:
    """The browser's login request as django-axes sees it: its address (not the calling
    admin's), user agent and path. Axes keeps its lockout flags on this object, so the
    internal call's own response is never turned into axes' lockout page."""
    attempt = HttpRequest()
    attempt.method = "POST"
    attempt.path = attempt.path_info = login_path
    attempt.META = {
        "REMOTE_ADDR": client_ip or "",
        "HTTP_USER_AGENT": user_agent,
        "PATH_INFO": login_path,
    }
    return attempt


def staff_session_sign_in(
    *,
    username: str,
    password: str,
    client_ip: str | None,
    user_agent: str = "",
    login_path: str = "",
) -> tuple[StaffSession, str]:
    """A sign-in at video's or checkout's admin, forwarded here, the only place passwords
    are checked: the same django-axes lockout as catalog's own login (wrong passwords
    count against the username and the browser's address; a locked-out one is refused
    even with the right password), then a new sign-in, as catalog's login opens one.
    Returns it and its token; raises STAFF_LOGIN_LOCKED_OUT (with `cooloff_seconds`, how
    long a lockout lasts here, for the admin's message; None: until lifted by hand) /
    STAFF_LOGIN_INVALID."""
    attempt = _login_attempt(client_ip=client_ip, user_agent=user_agent, login_path=login_path)
    user = authenticate(attempt, username=username, password=password)
    if getattr(attempt, "axes_locked_out", False):
        # Locked before this attempt, or by it (the limit's last wrong password).
        cool_off = get_cool_off(attempt)
        raise ApplicationError(
            CatalogErrorCode.STAFF_LOGIN_LOCKED_OUT,
            "Too many failed sign-ins for this account or from this address; try again later.",
            # 403, not 429: callers take a 429 for a passing overload and retry it.
            status=403,
            extra={"cooloff_seconds": None if cool_off is None else int(cool_off.total_seconds())},
        )
    if user is None or not user.is_active or not user.is_staff:
        raise ApplicationError(
            CatalogErrorCode.STAFF_LOGIN_INVALID,
            "That username and password are not a staff account's.",
            status=422,
        )
    # What a successful login does for axes (its access log, the failure count reset)
    # and for Django (last_login), without a catalog session: the browser is elsewhere.
    AxesProxyHandler.user_logged_in(sender=user.__class__, request=attempt, user=user)
    user.last_login = timezone.now()
    user.save(update_fields=["last_login"])
    return staff_session_open(user=user)
