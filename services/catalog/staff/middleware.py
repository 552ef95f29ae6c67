"""Catalog's admin session and the console sign-in stay one: a session whose console
sign-in has ended (signed out in another admin) or expired is signed out here too, and
the shared cookie is (re)set while the sign-in lives."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.contrib.auth import logout
from django.http import HttpRequest, HttpResponse

from clipcart_shared.console.cookie import (
    console_cookie_delete,
    console_cookie_raw,
    console_cookie_set,
    console_cookie_value,
)
from clipcart_shared.console.trust import NOTICE_ATTRIBUTE, NOTICE_ENDED
from staff.selectors import staff_session_id_is_live
from staff.services import staff_session_open

SESSION_KEY = "clipcart_console"
COOKIE_TO_SET = "_clipcart_console_cookie"


class OwnerSignInMiddleware:
    def __init__(self, get_response: Any) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        ended = False
        if request.path.startswith(f"/{settings.SERVICE_NAME}/admin/") and (
            request.user.is_authenticated
        ):
            stored = request.session.get(SESSION_KEY)
            if stored is None:
                # Signed in before the console existed (or by a test's force_login).
                session, token = staff_session_open(user=request.user)
                stored = {"id": str(session.pk), "cookie": console_cookie_value(token)}
                request.session[SESSION_KEY] = stored
            if not staff_session_id_is_live(session_id=stored["id"], user=request.user):
                logout(request)
                ended = True
                # Said on the login page this redirects to (a new session after logout).
                request.session[NOTICE_ATTRIBUTE] = NOTICE_ENDED
            elif console_cookie_raw(request) != stored["cookie"]:
                setattr(request, COOKIE_TO_SET, stored["cookie"])
        response = self.get_response(request)
        value = getattr(request, COOKIE_TO_SET, None)
        if value is not None and request.user.is_authenticated:
            console_cookie_set(response, value)
        elif ended:
            console_cookie_delete(response)
        return response
