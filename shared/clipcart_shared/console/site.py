"""The admin site every service runs (`admin.site`, through `ConsoleAdminConfig`).

Every admin's login page is Django's login form (the same page in the three); where the
password is checked depends on `CONSOLE_SIGN_IN`:
- `"owner"` (catalog): here, with django-axes' lockout; a successful sign-in opens a
  console sign-in (catalog's `staff` app) and sets the shared cookie.
- `"trust"` (video, checkout): nowhere here. The form's username and password, with the
  browser's address for the lockout, go to catalog (`POST /internal/v1/staff-sessions/`),
  which checks them as its own login does and answers the new sign-in's token; this
  admin sets the shared cookie with it. Nothing is written here for a refused one.
Either way, after signing in the browser may be sent on to another admin on the same host
name (any port: the cookie is the host's) that asked for it with `next`, nowhere else.
Signing out of any admin ends the sign-in at catalog and deletes the shared cookie, so
the browser is signed out of all three.
"""

from __future__ import annotations

import math
from typing import Any
from urllib.parse import urlsplit

from django import forms
from django.conf import settings
from django.contrib import admin, messages
from django.contrib.admin.forms import AdminAuthenticationForm
from django.contrib.auth import REDIRECT_FIELD_NAME
from django.contrib.auth.views import LoginView
from django.core.exceptions import ValidationError
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.urls import reverse
from django.utils.decorators import method_decorator
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.module_loading import import_string
from django.utils.translation import gettext
from django.views.decorators.cache import never_cache

from clipcart_shared.console.cookie import (
    console_cookie_delete,
    console_cookie_set,
    console_cookie_value,
)
from clipcart_shared.console.trust import (
    NOTICE_ATTRIBUTE,
    NOTICE_ENDED,
    NOTICE_EXPIRED,
    SignInRefused,
    SignInUnverifiable,
    console_sign_in,
    console_sign_out,
    request_console_token,
)
from clipcart_shared.throttling.throttles import client_ip

NOTICES = {
    NOTICE_EXPIRED: "Your sign-in has expired. Sign in again to open the admins.",
    NOTICE_ENDED: "You were signed out (from another admin, or your access was changed). "
    "Sign in again.",
}


LOCKED_OUT = (
    "Too many failed sign-ins for this account or from this address. Wait "
    "%(minutes)s minutes, then try again."
)
# Catalog did not say how long (its lockout lasts until lifted by hand).
LOCKED_OUT_UNTIL_LIFTED = (
    "Too many failed sign-ins for this account or from this address. Try again later, "
    "or ask a platform administrator to lift the lockout."
)
UNREACHABLE = (
    "The catalog, which checks admin sign-ins, cannot be reached right now. Nothing was "
    "changed; try again shortly."
)


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


class ForwardedAuthenticationForm(AdminAuthenticationForm):
    """Django's admin login form whose password catalog checks (`console_sign_in`):
    `console_token` is the sign-in it opened; `refusal` says why there is none."""

    def __init__(self, request: HttpRequest | None = None, *args: Any, **kwargs: Any) -> None:
        super().__init__(request, *args, **kwargs)
        self.console_token: str | None = None
        self.refusal = ""

    def clean(self) -> dict[str, Any]:
        username = self.cleaned_data.get("username")
        password = self.cleaned_data.get("password")
        if username is None or not password or self.request is None:
            return self.cleaned_data
        try:
            self.console_token = console_sign_in(
                username=username,
                password=password,
                client_ip=client_ip(self.request),
                user_agent=self.request.headers.get("User-Agent", ""),
                login_path=self.request.path,
            )
        except SignInRefused as error:
            if not error.is_locked_out:
                raise self.get_invalid_login_error() from error
            self.refusal = "locked_out"
            # How long is catalog's to say: its lockout is the one that holds.
            if error.cooloff_seconds is None:
                raise ValidationError(LOCKED_OUT_UNTIL_LIFTED, code="locked_out") from error
            minutes = max(1, math.ceil(error.cooloff_seconds / 60))
            raise ValidationError(
                LOCKED_OUT, code="locked_out", params={"minutes": minutes}
            ) from error
        except SignInUnverifiable as error:
            self.refusal = "unreachable"
            raise ValidationError(UNREACHABLE, code="unreachable") from error
        return self.cleaned_data

    def get_user(self) -> None:
        # No local sign-in: the shared cookie is who this admin's user is (trust.py).
        return None


class ForwardedLoginView(LoginView):
    """Django's login view for the trusting admins: a sign-in catalog opened sets the
    shared cookie (not a session of this admin) and sends the browser to `next`."""

    authentication_form = ForwardedAuthenticationForm
    # What a refusal answers: the form again, with its message.
    refusal_statuses = {"locked_out": 429, "unreachable": 503}

    def get_redirect_url(self) -> str:
        url = self.request.POST.get(REDIRECT_FIELD_NAME) or self.request.GET.get(
            REDIRECT_FIELD_NAME, ""
        )
        return url if same_host_redirect_allowed(self.request, url) else ""

    def get_default_redirect_url(self) -> str:
        return reverse("admin:index", current_app=self.request.current_app)

    def form_valid(self, form: forms.Form) -> HttpResponse:
        assert isinstance(form, ForwardedAuthenticationForm) and form.console_token
        replaced = request_console_token(self.request)
        if replaced is not None:
            # This browser's earlier sign-in: its cookie is about to be replaced.
            console_sign_out(replaced)
        response = HttpResponseRedirect(self.get_success_url())
        console_cookie_set(response, console_cookie_value(form.console_token))
        return response

    def form_invalid(self, form: forms.Form) -> HttpResponse:
        response = super().form_invalid(form)
        refusal = getattr(form, "refusal", "")
        response.status_code = self.refusal_statuses.get(refusal, response.status_code)
        return response


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
        next_url = request.POST.get(REDIRECT_FIELD_NAME) or request.GET.get(REDIRECT_FIELD_NAME, "")
        if request.method == "GET" and self.has_permission(request):
            return self._next_or_index(request, next_url)
        if _is_owner():
            return self._owner_login(request, next_url, extra_context)
        return self._trust_login(request, extra_context)

    def _next_or_index(self, request: HttpRequest, next_url: str) -> HttpResponseRedirect:
        """On to `next` where it is another admin on this host name, else this index."""
        if same_host_redirect_allowed(request, next_url):
            return HttpResponseRedirect(next_url)
        return HttpResponseRedirect(reverse("admin:index", current_app=self.name))

    def _owner_login(
        self, request: HttpRequest, next_url: str, extra_context: dict[str, Any] | None
    ) -> Any:
        response = super().login(request, extra_context)
        if (
            request.method == "POST"
            and isinstance(response, HttpResponseRedirect)
            and request.user.is_authenticated
        ):
            # Django's LoginView allows only this host and port; the other admins are on
            # this host at other ports in the embedded run. Anywhere else: the index.
            return self._next_or_index(request, next_url)
        return response

    def _trust_login(self, request: HttpRequest, extra_context: dict[str, Any] | None) -> Any:
        # Django's own login page (`AdminSite.login`), with the form catalog checks.
        context = {
            **self.each_context(request),
            "title": gettext("Log in"),
            "subtitle": None,
            "app_path": request.get_full_path(),
            "username": request.user.get_username(),
        }
        if REDIRECT_FIELD_NAME not in request.GET and REDIRECT_FIELD_NAME not in request.POST:
            context[REDIRECT_FIELD_NAME] = reverse("admin:index", current_app=self.name)
        context.update(extra_context or {})
        request.current_app = self.name
        return ForwardedLoginView.as_view(
            extra_context=context, template_name=self.login_template or "admin/login.html"
        )(request)

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
