"""Opening and ending staff sign-ins."""

from __future__ import annotations

from typing import Any

from django.utils import timezone

from clipcart_shared.console.cookie import (
    console_session_expiry,
    console_token_hash,
    console_token_new,
)
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
