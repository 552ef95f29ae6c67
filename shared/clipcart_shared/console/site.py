"""The admin site every service runs (`admin.site`, through `ConsoleAdminConfig`).

Where staff sign in depends on `CONSOLE_SIGN_IN`:
- `"owner"` (catalog): Django's own login form, with django-axes' lockout; a successful
  sign-in opens a console sign-in (catalog's `staff` app) and sets the shared cookie.
  After signing in it may send the browser on to another admin on the same host name
  (any port: the cookie is the host's), which asked it to.
- `"trust"` (video, checkout): no login form and no password. Their login page sends
  the browser to `CONSOLE_LOGIN_URL` (catalog's) with the page to come back to.
Signing out of any admin ends the sign-in at catalog and deletes the shared cookie, so
the browser is signed out of all three.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import urlencode, urlsplit

from django.conf import settings
from django.contrib import admin, messages
from django.contrib.auth import REDIRECT_FIELD_NAME
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.urls import reverse
from django.utils.decorators import method_decorator
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.module_loading import import_string
from django.views.decorators.cache import never_cache

from clipcart_shared.console.cookie import console_cookie_delete
from clipcart_shared.console.trust import (
    NOTICE_ATTRIBUTE,
    NOTICE_ENDED,
    NOTICE_EXPIRED,
    console_sign_out,
    request_console_token,
)

NOTICES = {
    NOTICE_EXPIRED: "Your sign-in has expired. Sign in again to open the admins.",
    NOTICE_ENDED: "You were signed out (from another admin, or your access was changed). "
    "Sign in again.",
}


def _is_owner() -> bool:
    return bool(settings.CONSOLE_SIGN_IN == "owner")


def same_host_redirect_allowed(request: HttpRequest, url: str) -> bool:
    """A relative URL, or one on this request's host name at any port: the admins share
    the cookie there (cookies are per host, not per port), and nowhere else may a sign-in
    send the browser."""
    if not url:
        return False
    netloc = urlsplit(url).netloc
    allowed = {request.get_host()}
    if netloc and urlsplit(f"//{netloc}").hostname == urlsplit(f"//{request.get_host()}").hostname:
        allowed.add(netloc)
    return url_has_allowed_host_and_scheme(
        url, allowed_hosts=allowed, require_https=request.is_secure()
    )


class ConsoleAdminSite(admin.AdminSite):
    """Django's admin site, signed in through the console (see the module), opening on
    the service's numbers (`CONSOLE_HOME`, `clipcart_shared.console.home`)."""

    index_template = "console/index.html"

    def index(self, request: HttpRequest, extra_context: dict[str, Any] | None = None) -> Any:
        home = getattr(settings, "CONSOLE_HOME", "")
        panels = import_string(home)(request) if home else []
        return super().index(request, {**(extra_context or {}), "home_panels": panels})

    @method_decorator(never_cache)
    def login(self, request: HttpRequest, extra_context: dict[str, Any] | None = None) -> Any:
        notice = (
            getattr(request, NOTICE_ATTRIBUTE, None)
            or request.session.pop(NOTICE_ATTRIBUTE, None)
            or request.GET.get("notice")
        )
        if notice in NOTICES and request.method == "GET":
            messages.info(request, NOTICES[notice])
        if _is_owner():
            return self._owner_login(request, extra_context)
        return self._trust_login(request)

    def _owner_login(self, request: HttpRequest, extra_context: dict[str, Any] | None) -> Any:
        next_url = request.POST.get(REDIRECT_FIELD_NAME) or request.GET.get(REDIRECT_FIELD_NAME, "")
        if request.method == "GET" and self.has_permission(request):
            if same_host_redirect_allowed(request, next_url):
                return HttpResponseRedirect(next_url)
            return HttpResponseRedirect(reverse("admin:index", current_app=self.name))
        response = super().login(request, extra_context)
        if (
            request.method == "POST"
            and isinstance(response, HttpResponseRedirect)
            and request.user.is_authenticated
        ):
            # Django's LoginView allows only this host and port; the other admins are on
            # this host at other ports in the embedded run. Anywhere else: the index.
            if same_host_redirect_allowed(request, next_url):
                return HttpResponseRedirect(next_url)
            return HttpResponseRedirect(reverse("admin:index", current_app=self.name))
        return response

    def _trust_login(self, request: HttpRequest) -> HttpResponse:
        next_path = request.GET.get(REDIRECT_FIELD_NAME, "")
        if not url_has_allowed_host_and_scheme(next_path, allowed_hosts={request.get_host()}):
            next_path = ""
        next_path = next_path or reverse("admin:index", current_app=self.name)
        if self.has_permission(request):
            return HttpResponseRedirect(next_path)
        login_url = settings.CONSOLE_LOGIN_URL
        back = next_path if login_url.startswith("/") else request.build_absolute_uri(next_path)
        query = {REDIRECT_FIELD_NAME: back}
        notice = getattr(request, NOTICE_ATTRIBUTE, None)
        if notice in NOTICES:
            query["notice"] = notice
        return HttpResponseRedirect(f"{login_url}?{urlencode(query)}")

    @method_decorator(never_cache)
    def logout(self, request: HttpRequest, extra_context: dict[str, Any] | None = None) -> Any:
        token = request_console_token(request)
        if not _is_owner() and token is not None and request.method == "POST":
            console_sign_out(token)
        # Django's LogoutView signs the user out of this admin on POST; the owner ends the
        # console sign-in there too (`user_logged_out`, catalog's staff app).
        response = super().logout(request, extra_context)
        if request.method == "POST":
            console_cookie_delete(response)
        return response
