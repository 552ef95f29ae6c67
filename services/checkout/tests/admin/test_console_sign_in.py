"""Signing in at the checkout admin's own login page (ADR 23, amended): the password goes
to the real catalog (`POST /internal/v1/staff-sessions/`) with the browser's address for
its lockout; its answer sets the shared cookie, which opens this admin as that user,
scoped to their merchants. A refused sign-in writes nothing here; no password is stored."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from datetime import timedelta

import pytest
from django.contrib.auth import get_user_model
from django.test import Client

from clipcart_shared.console.cookie import CONSOLE_COOKIE
from clipcart_shared.merchant_access.models import MerchantMembership
from orders.models import Order
from tests.admin.conftest import ADMIN, MERCHANT_IDS, ORDERS
from tests.conftest import Catalog

pytestmark = pytest.mark.django_db
LOGIN = f"{ADMIN}/login/"


def _demo_login(merchant_id: uuid.UUID) -> tuple[str, str]:
    """The demo staff of a merchant, as catalog's `seed_demo` makes them."""
    (slug,) = (slug for slug, known in MERCHANT_IDS.items() if known == merchant_id)
    return slug, f"{slug}-demo"


@pytest.fixture
def browser() -> Client:
    client = Client(enforce_csrf_checks=True)
    assert client.get(f"{LOGIN}?next={ADMIN}/").status_code == 200
    return client


@pytest.fixture
def lockouts_lifted(catalog: Catalog) -> Iterator[None]:
    """Catalog's failed sign-ins forgotten before and after (its process outlives a test)."""
    catalog.service.manage("axes_reset")
    yield
    catalog.service.manage("axes_reset")


def _sign_in(browser: Client, username: str, password: str, **extra):
    return browser.post(
        f"{LOGIN}?next={ADMIN}/",
        {
            "username": username,
            "password": password,
            "next": f"{ADMIN}/",
            "csrfmiddlewaretoken": browser.cookies["checkout_csrftoken"].value,
        },
        **extra,
    )


def test_signing_in_here_opens_the_admin_with_only_the_merchants_orders(
    catalog, browser, merchant_a, order_of_a: Order, order_of_b: Order
):
    username, password = _demo_login(merchant_a)

    answer = _sign_in(browser, username, password)

    assert answer.status_code == 302 and answer["Location"] == f"{ADMIN}/"
    assert CONSOLE_COOKIE in browser.cookies
    assert browser.get(f"{ADMIN}/").context["user"].username == username
    assert browser.get(f"{ORDERS}/{order_of_a.pk}/change/").status_code == 200
    assert browser.get(f"{ORDERS}/{order_of_b.pk}/change/").status_code == 404
    user = get_user_model().objects.get(username=username)
    assert not user.has_usable_password()
    memberships = MerchantMembership.objects.filter(user=user)
    assert list(memberships.values_list("merchant_id", flat=True)) == [merchant_a]


def test_the_other_merchants_staff_signed_in_here_do_not_see_the_first_ones_orders(
    catalog, browser, merchant_b, order_of_a: Order
):
    assert _sign_in(browser, *_demo_login(merchant_b)).status_code == 302

    assert browser.get(f"{ORDERS}/{order_of_a.pk}/change/").status_code == 404


def test_a_wrong_password_shows_the_form_again_and_writes_nothing(
    catalog, browser, merchant_a, lockouts_lifted
):
    username, _ = _demo_login(merchant_a)

    answer = _sign_in(browser, username, "not-the-password")

    assert answer.status_code == 200
    assert "correct username and password" in answer.content.decode()
    assert CONSOLE_COOKIE not in browser.cookies
    assert not get_user_model().objects.exists()


def test_a_lockout_at_catalog_is_told_here_even_for_the_right_password(
    catalog, browser, merchant_a, lockouts_lifted
):
    username, password = _demo_login(merchant_a)
    for _ in range(5):
        _sign_in(browser, username, "wrong", REMOTE_ADDR="198.51.100.71")

    locked = _sign_in(browser, username, password, REMOTE_ADDR="198.51.100.72")

    assert locked.status_code == 429
    assert "Too many failed sign-ins" in locked.content.decode()
    assert CONSOLE_COOKIE not in browser.cookies
    assert not get_user_model().objects.exists()


def test_the_lockout_message_says_catalogs_cool_off_not_this_admins_setting(
    catalog, browser, merchant_a, lockouts_lifted, settings
):
    settings.AXES_COOLOFF_TIME = timedelta(minutes=42)  # catalog's is 7 (tests/conftest.py)
    username, password = _demo_login(merchant_a)
    for _ in range(5):
        _sign_in(browser, username, "wrong", REMOTE_ADDR="198.51.100.73")

    locked = _sign_in(browser, username, password, REMOTE_ADDR="198.51.100.73")

    assert locked.status_code == 429
    assert "Wait 7 minutes, then try again." in locked.content.decode()


def test_catalog_down_the_sign_in_says_so_and_writes_nothing(catalog_down, browser):
    answer = _sign_in(browser, "alpine", "alpine-demo")

    assert answer.status_code == 503
    assert "cannot be reached right now" in answer.content.decode()
    assert CONSOLE_COOKIE not in browser.cookies
    assert not get_user_model().objects.exists()


def test_a_page_opened_signed_out_sends_the_browser_to_this_admins_login():
    page = Client().get(f"{ORDERS}/")

    assert page.status_code == 302 and page["Location"] == f"{LOGIN}?next={ORDERS}/"
