"""A sign-in to catalog's admin opens a console sign-in; signing out ends it."""

from __future__ import annotations

from typing import Any

from django.contrib.auth.signals import user_logged_in, user_logged_out
from django.dispatch import receiver

from clipcart_shared.console.cookie import console_cookie_value
from staff.middleware import COOKIE_TO_SET, SESSION_KEY, SIGN_IN_ADOPTED
from staff.services import staff_session_end_by_id, staff_session_open


@receiver(user_logged_in, dispatch_uid="staff_session_open_on_login")
def _opened(sender: Any, request: Any, user: Any, **kwargs: Any) -> None:
    if request is None or not getattr(user, "is_staff", False):
        return
    adopted = getattr(request, SIGN_IN_ADOPTED, None)
    if adopted is not None:
        # Signed in at another admin's login page: this session follows that sign-in.
        request.session[SESSION_KEY] = adopted
        return
    session, token = staff_session_open(user=user)
    value = console_cookie_value(token)
    request.session[SESSION_KEY] = {"id": str(session.pk), "cookie": value}
    setattr(request, COOKIE_TO_SET, value)


@receiver(user_logged_out, dispatch_uid="staff_session_end_on_logout")
def _ended(sender: Any, request: Any, user: Any, **kwargs: Any) -> None:
    stored = request.session.get(SESSION_KEY) if request is not None else None
    if stored:
        staff_session_end_by_id(session_id=stored["id"])
