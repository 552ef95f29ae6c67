"""Who a sign-in is: what video's and checkout's admins ask."""

from __future__ import annotations

import uuid
from typing import Any

from django.utils import timezone

from clipcart_shared.console.cookie import console_token_hash
from merchants.models import Merchant
from staff.models import StaffSession


def staff_session_live(*, token: str) -> StaffSession | None:
    """The live sign-in of `token` by an active staff user, else None."""
    return (
        StaffSession.objects.select_related("user")
        .filter(
            token_hash=console_token_hash(token),
            ended_at__isnull=True,
            expires_at__gt=timezone.now(),
            user__is_active=True,
            user__is_staff=True,
        )
        .first()
    )


def staff_session_id_is_live(*, session_id: str, user: Any) -> bool:
    try:
        session_uuid = uuid.UUID(str(session_id))
    except ValueError:
        return False
    return StaffSession.objects.filter(
        pk=session_uuid, user=user, ended_at__isnull=True, expires_at__gt=timezone.now()
    ).exists()


def staff_session_id_has_expired(*, session_id: str) -> bool:
    """True when the sign-in ran out (`CONSOLE_SESSION_SECONDS`) rather than was ended."""
    try:
        session_uuid = uuid.UUID(str(session_id))
    except ValueError:
        return False
    return StaffSession.objects.filter(
        pk=session_uuid, ended_at__isnull=True, expires_at__lte=timezone.now()
    ).exists()


def staff_answer(*, session: StaffSession) -> dict[str, Any]:
    """The user of a sign-in and the merchants they work for now (two queries)."""
    user = session.user
    merchants = (
        []
        if user.is_superuser
        else [
            {"id": merchant_id, "name": name}
            for merchant_id, name in Merchant.objects.filter(staff=user)
            .order_by("name")
            .values_list("id", "name")
        ]
    )
    return {
        "username": user.get_username(),
        "email": user.email,
        "first_name": user.first_name,
        "last_name": user.last_name,
        "is_superuser": user.is_superuser,
        "merchants": merchants,
        "expires_at": session.expires_at,
    }
