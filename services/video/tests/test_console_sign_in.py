"""Signing in at the video admin's own login page (ADR 23, amended): the form looks like
catalog's, but the password goes to the real catalog (`POST /internal/v1/staff-sessions/`)
with the browser's address for its lockout; catalog's answer sets the shared cookie,
which then opens this admin as the user it names, scoped to their merchants. Nothing is
written here for a refused sign-in, and no password is ever stored here."""

from __future__ import annotations

import time
from collections.abc import Iterator
from datetime import timedelta
from unittest import mock

import pytest
from django.contrib.auth import get_user_model
from django.test import Client

from clipcart_shared.console.cookie import (
    CONSOLE_COOKIE,
    console_cookie_value,
    console_token_load,
)
from clipcart_shared.merchant_access.models import MerchantMembership
from tests.admin_pages import ADMIN, TAGS
from tests.catalog_server import CatalogServer
from tests.conftest import MERCHANT_A
from videos.models import ProductTag

pytestmark = pytest.mark.django_db
LOGIN = f"{ADMIN}/login/"


@pytest.fixture
def browser() -> Client:
    """A browser that fetched the login page (it holds this admin's CSRF cookie)."""
    client = Client(enforce_csrf_checks=True)
    page = client.get(f"{LOGIN}?next={ADMIN}/")
    assert page.status_code == 200
    return client


@pytest.fixture
def lockouts_lifted(catalog: CatalogServer) -> Iterator[None]:
    """Catalog's failed sign-ins forgotten before and after (its process outlives a test)."""
    catalog.service.manage("axes_reset")
    yield
    catalog.service.manage("axes_reset")


def _sign_in(
    browser: Client, username: str, password: str, *, next_url: str = f"{ADMIN}/", **extra
):
    return browser.post(
        f"{LOGIN}?next={next_url}",
        {
            "username": username,
            "password": password,
            "next": next_url,
            "csrfmiddlewaretoken": browser.cookies["video_csrftoken"].value,
        },
        **extra,
    )


def test_the_login_page_is_djangos_form_with_this_admins_csrf_cookie(browser):
    page = browser.get(LOGIN)

    assert page.status_code == 200
    html = page.content.decode()
    assert 'name="username"' in html and 'name="password"' in html
    assert "csrfmiddlewaretoken" in html
    assert browser.cookies["video_csrftoken"]["path"] == f"{ADMIN}/"


def test_signing_in_here_sets_the_shared_cookie_and_opens_the_admin_scoped_to_the_merchant(
    catalog, browser, tag_a_on_brand_video: ProductTag, tag_b_on_other_video: ProductTag
):
    answer = _sign_in(browser, "alpine", "alpine-demo")

    assert answer.status_code == 302 and answer["Location"] == f"{ADMIN}/"
    cookie = browser.cookies[CONSOLE_COOKIE]
    assert cookie["path"] == "/" and cookie["httponly"]
    assert console_token_load(cookie.value)
    index = browser.get(f"{ADMIN}/")
    assert index.status_code == 200 and index.context["user"].username == "alpine"
    # Alpine's tag opens, Harbor's is not found (the scoping is unchanged).
    assert browser.get(f"{TAGS}/{tag_a_on_brand_video.pk}/change/").status_code == 200
    assert browser.get(f"{TAGS}/{tag_b_on_other_video.pk}/change/").status_code == 404
    user = get_user_model().objects.get(username="alpine")
    assert not user.has_usable_password()
    assert list(
        MerchantMembership.objects.filter(user=user).values_list("merchant_id", flat=True)
    ) == [MERCHANT_A]


def test_another_merchants_staff_signed_in_here_see_nothing_of_alpine(
    catalog, browser, tag_a_on_brand_video: ProductTag
):
    assert _sign_in(browser, "harbor", "harbor-demo").status_code == 302

    assert browser.get(f"{ADMIN}/").context["user"].username == "harbor"
    assert browser.get(f"{TAGS}/{tag_a_on_brand_video.pk}/change/").status_code == 404


def test_after_signing_in_the_browser_goes_on_only_to_an_admin_of_the_same_host(catalog):
    def signed_in_to(next_url: str) -> str:
        browser = Client()
        browser.get(LOGIN)
        return _sign_in(browser, "alpine", "alpine-demo", next_url=next_url)["Location"]

    assert signed_in_to("http://testserver:8003/checkout/admin/") == (
        "http://testserver:8003/checkout/admin/"
    )
    assert signed_in_to("https://evil.example/") == f"{ADMIN}/"


def test_a_wrong_password_shows_the_form_again_and_writes_nothing(
    catalog, browser, lockouts_lifted
):
    answer = _sign_in(browser, "alpine", "not-the-password")

    assert answer.status_code == 200
    assert "correct username and password" in answer.content.decode()
    assert CONSOLE_COOKIE not in browser.cookies
    assert not get_user_model().objects.exists()
    assert browser.get(f"{ADMIN}/").status_code == 302


def test_repeated_wrong_passwords_lock_the_account_out_at_catalog_with_a_clear_message(
    catalog, browser, lockouts_lifted
):
    failures = [
        _sign_in(browser, "alpine", "wrong", REMOTE_ADDR="203.0.113.61").status_code
        for _ in range(5)
    ]
    locked = _sign_in(browser, "alpine", "alpine-demo", REMOTE_ADDR="203.0.113.62")

    assert failures == [200, 200, 200, 200, 429]
    assert locked.status_code == 429
    assert "Too many failed sign-ins" in locked.content.decode()
    assert CONSOLE_COOKIE not in browser.cookies
    assert not get_user_model().objects.exists()


def test_the_lockout_message_says_catalogs_cool_off_not_this_admins_setting(
    catalog, browser, lockouts_lifted, settings
):
    settings.AXES_COOLOFF_TIME = timedelta(minutes=42)  # catalog's is 7 (catalog_server)
    for _ in range(5):
        _sign_in(browser, "alpine", "wrong", REMOTE_ADDR="203.0.113.63")

    locked = _sign_in(browser, "alpine", "alpine-demo", REMOTE_ADDR="203.0.113.63")

    assert locked.status_code == 429
    assert "Wait 7 minutes, then try again." in locked.content.decode()


def test_catalog_down_the_sign_in_says_so_and_writes_nothing(catalog_down, browser):
    answer = _sign_in(browser, "alpine", "alpine-demo")

    assert answer.status_code == 503
    assert "cannot be reached right now" in answer.content.decode()
    assert CONSOLE_COOKIE not in browser.cookies
    assert not get_user_model().objects.exists()


def test_a_page_opened_signed_out_sends_the_browser_to_this_admins_login():
    page = Client().get(f"{TAGS}/")

    assert page.status_code == 302
    assert page["Location"] == f"{LOGIN}?next={TAGS}/"


def test_an_expired_shared_cookie_sends_the_browser_to_sign_in_again_saying_so(settings):
    # Signed longer ago than a sign-in lasts: refused without asking catalog.
    signed_at = time.time() - settings.CONSOLE_SESSION_SECONDS - 60
    with mock.patch("django.core.signing.time.time", return_value=signed_at):
        value = console_cookie_value("a-token-from-yesterday")
    client = Client()
    client.cookies[CONSOLE_COOKIE] = value

    page = client.get(f"{TAGS}/", follow=True)

    assert page.redirect_chain[-1][0] == f"{LOGIN}?next={TAGS}/"
    assert page.status_code == 200
    assert "Your sign-in has expired" in page.content.decode()
