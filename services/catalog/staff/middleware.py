"""Catalog's admin session and the console sign-in stay one: a session whose console
sign-in has ended (signed out in another admin) or expired is signed out here too, the
shared cookie is (re)set while the sign-in lives, and a sign-in made at another admin's
login page (video's, checkout's: the shared cookie names a live sign-in this session does
not hold) signs this admin in as its user too."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.contrib.auth import login, logout
from django.http import HttpRequest, HttpResponse

from clipcart_shared.console.cookie import (
    ConsoleCookieInvalid,
    console_cookie_delete,
    console_cookie_raw,
    console_cookie_set,
    console_cookie_value,
    console_token_load,
)
from clipcart_shared.console.trust import NOTICE_ATTRIBUTE, NOTICE_ENDED, NOTICE_EXPIRED
from staff.selectors import (
    staff_session_id_has_expired,
    staff_session_id_is_live,
    staff_session_live,
)
from staff.services import staff_session_end_by_id, staff_session_open

SESSION_KEY = "clipcart_console"
COOKIE_TO_SET = "_clipcart_console_cookie"
# The sign-in a `login()` here takes over instead of opening one (staff.signals).
SIGN_IN_ADOPTED = "_clipcart_console_adopted"
_BACKEND = "django.contrib.auth.backends.ModelBackend"


def _sign_in_made_elsewhere_adopt(
    request: HttpRequest, raw: str, stored: dict[str, str] | None
) -> None:
    """Sign this admin in as the live sign-in of the shared cookie `raw`, when it is not
    the one this session holds (`stored`); the one it held ends (this browser's cookie no
    longer carries it)."""
    try:
        token = console_token_load(raw)
    except ConsoleCookieInvalid:
        return
    session = staff_session_live(token=token)
    if session is None or (stored is not None and stored["id"] == str(session.pk)):
        return
    if stored is not None:
        staff_session_end_by_id(session_id=stored["id"])
    setattr(request, SIGN_IN_ADOPTED, {"id": str(session.pk), "cookie": raw})
    login(request, session.user, backend=_BACKEND)


class OwnerSignInMiddleware:
    def __init__(self, get_response: Any) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        ended = False
        is_admin = request.path.startswith(f"/{settings.SERVICE_NAME}/admin/")
        raw = console_cookie_raw(request)
        if is_admin and raw is not None:
            stored = request.session.get(SESSION_KEY) if request.user.is_authenticated else None
            if stored is None or stored["cookie"] != raw:
                _sign_in_made_elsewhere_adopt(request, raw, stored)
        if is_admin and request.user.is_authenticated:
            stored = request.session.get(SESSION_KEY)
            if stored is None:
                # Signed in before the console existed (or by a test's force_login).
                session, token = staff_session_open(user=request.user)
                stored = {"id": str(session.pk), "cookie": console_cookie_value(token)}
                request.session[SESSION_KEY] = stored
            if not staff_session_id_is_live(session_id=stored["id"], user=request.user):
                expired = staff_session_id_has_expired(session_id=stored["id"])
                logout(request)
                ended = True
                # Said on the login page this redirects to (a new session after logout).
                request.session[NOTICE_ATTRIBUTE] = NOTICE_EXPIRED if expired else NOTICE_ENDED
            elif console_cookie_raw(request) != stored["cookie"]:
                setattr(request, COOKIE_TO_SET, stored["cookie"])
        response = self.get_response(request)
        value = getattr(request, COOKIE_TO_SET, None)
        if value is not None and request.user.is_authenticated:
            console_cookie_set(response, value)
        elif ended:
            console_cookie_delete(response)
        return response
