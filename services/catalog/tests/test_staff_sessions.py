"""Catalog owns the admins' sign-ins (ADR 23): its login opens one and sets the shared
cookie, its logout ends it, and `/internal/v1/staff-sessions/` answers the other admins."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from axes.models import AccessAttempt, AccessLog
from django.test import Client, override_settings
from django.utils import timezone

from clipcart_shared.console.cookie import (
    CONSOLE_COOKIE,
    console_cookie_value,
    console_token_hash,
    console_token_load,
)
from merchants.models import Merchant
from staff.models import StaffSession
from tests.factories import MerchantFactory, UserFactory

pytestmark = pytest.mark.django_db
ADMIN = "/catalog/admin"
CHECK = "/internal/v1/staff-sessions/check/"
REVOKE = "/internal/v1/staff-sessions/revoke/"


def _signed_in(username: str = "alpine-staff") -> tuple[Client, str, Merchant]:
    merchant = MerchantFactory(name="Alpine", slug="alpine-x")
    user = UserFactory(username=username, is_staff=True)
    user.set_password("right-password")
    user.save()
    merchant.staff.add(user)
    client = Client()
    answer = client.post(
        f"{ADMIN}/login/?next={ADMIN}/",
        {"username": username, "password": "right-password"},
    )
    assert answer.status_code == 302
    token = console_token_load(client.cookies[CONSOLE_COOKIE].value)
    return client, token, merchant


def test_signing_in_sets_the_shared_cookie_and_the_check_names_the_user_and_merchants(
    service_client,
):
    client, token, merchant = _signed_in()
    cookie = client.cookies[CONSOLE_COOKIE]

    body = service_client.post(CHECK, {"token": token}, format="json").json()

    assert cookie["path"] == "/" and cookie["httponly"] and cookie["samesite"] == "Lax"
    assert body["username"] == "alpine-staff" and body["is_superuser"] is False
    assert body["merchants"] == [{"id": str(merchant.id), "name": "Alpine"}]
    # Only the token's hash is stored.
    assert not StaffSession.objects.filter(token_hash=token).exists()
    assert StaffSession.objects.get().user.username == "alpine-staff"


def test_a_removed_membership_shows_in_the_next_check(service_client):
    _, token, merchant = _signed_in()
    merchant.staff.clear()

    body = service_client.post(CHECK, {"token": token}, format="json").json()

    assert body["merchants"] == []


@pytest.mark.parametrize("change", ["deactivated", "not_staff", "expired", "ended"])
def test_the_check_is_404_once_the_sign_in_is_no_longer_good(service_client, change):
    _, token, _ = _signed_in()
    session = StaffSession.objects.get()
    if change == "deactivated":
        session.user.is_active = False
        session.user.save()
    elif change == "not_staff":
        session.user.is_staff = False
        session.user.save()
    elif change == "expired":
        StaffSession.objects.update(expires_at=timezone.now() - timedelta(seconds=1))
    else:
        assert service_client.post(REVOKE, {"token": token}, format="json").status_code == 204

    answer = service_client.post(CHECK, {"token": token}, format="json")

    assert answer.status_code == 404 and answer.json()["code"] == "not_found"


def test_signing_out_of_catalog_ends_the_sign_in_and_deletes_the_cookie(service_client):
    client, token, _ = _signed_in()

    answer = client.post(f"{ADMIN}/logout/")

    assert answer.status_code == 200
    assert client.cookies[CONSOLE_COOKIE].value == ""
    assert StaffSession.objects.get().ended_at is not None
    assert service_client.post(CHECK, {"token": token}, format="json").status_code == 404


def test_a_sign_in_ended_elsewhere_signs_catalogs_own_session_out(service_client):
    client, token, _ = _signed_in()
    assert client.get(f"{ADMIN}/").status_code == 200

    # Another admin's sign-out: it ends the sign-in here, over the internal API.
    assert service_client.post(REVOKE, {"token": token}, format="json").status_code == 204
    assert service_client.post(REVOKE, {"token": token}, format="json").status_code == 204

    page = client.get(f"{ADMIN}/", follow=True)
    assert page.redirect_chain[-1][0].startswith(f"{ADMIN}/login/")
    assert "signed out" in page.content.decode()


def test_after_signing_in_catalog_sends_the_browser_on_to_another_admin_of_the_same_host():
    UserFactory(username="staff-2", is_staff=True).set_password("pw")
    user = UserFactory(username="staff-3", is_staff=True)
    user.set_password("pw")
    user.save()

    same_host = Client().post(
        f"{ADMIN}/login/",
        {"username": "staff-3", "password": "pw", "next": "http://testserver:8002/video/admin/"},
    )
    other_host = Client().post(
        f"{ADMIN}/login/", {"username": "staff-3", "password": "pw", "next": "http://evil.example/"}
    )

    assert same_host["Location"] == "http://testserver:8002/video/admin/"
    assert other_host["Location"] == f"{ADMIN}/"


@pytest.mark.parametrize(
    "body",
    [{}, {"token": 12}, {"token": None}, {"token": "x" * 129}, {"token": ["a"]}, []],
)
def test_bad_check_bodies_are_400_and_unknown_tokens_404(service_client, body):
    answer = service_client.post(CHECK, body, format="json")
    unknown = service_client.post(CHECK, {"token": "no-such-token"}, format="json")

    assert answer.status_code == 400 and answer.json()["code"] == "validation_error"
    assert unknown.status_code == 404


def test_only_services_may_ask(user_client, api_client):
    assert user_client.post(CHECK, {"token": "t"}, format="json").status_code == 403
    assert api_client.post(CHECK, {"token": "t"}, format="json").status_code == 401
    assert api_client.post(REVOKE, {"token": "t"}, format="json").status_code == 401


# --- a sign-in typed into video's or checkout's login form, forwarded here -------------

SIGN_IN = "/internal/v1/staff-sessions/"


def _staff(username: str = "alpine-staff", *, merchant: Merchant | None = None) -> Any:
    user = UserFactory(username=username, is_staff=True)
    user.set_password("right-password")
    user.save()
    (merchant or MerchantFactory(name="Alpine", slug=f"alpine-{username}")).staff.add(user)
    return user


def _forward(service_client, username: str, password: str, ip: str = "203.0.113.7"):
    return service_client.post(
        SIGN_IN,
        {
            "username": username,
            "password": password,
            "client_ip": ip,
            "user_agent": "Browser/1.0",
            "login_path": "/video/admin/login/",
        },
        format="json",
    )


def test_a_forwarded_sign_in_opens_one_and_answers_its_token_and_who_it_is(service_client):
    merchant = MerchantFactory(name="Alpine", slug="alpine-f")
    user = _staff(merchant=merchant)

    answer = _forward(service_client, "alpine-staff", "right-password")

    assert answer.status_code == 201
    body = answer.json()
    assert body["username"] == "alpine-staff" and body["is_superuser"] is False
    assert body["merchants"] == [{"id": str(merchant.id), "name": "Alpine"}]
    session = StaffSession.objects.get()
    assert session.user == user and session.ended_at is None
    assert session.token_hash == console_token_hash(body["token"])
    check = service_client.post(CHECK, {"token": body["token"]}, format="json").json()
    assert check["username"] == "alpine-staff"
    user.refresh_from_db()
    assert user.last_login is not None
    # Axes logged the browser's sign-in: its address and path, not the calling admin's.
    [log] = AccessLog.objects.all()
    assert (log.username, log.ip_address, log.path_info) == (
        "alpine-staff",
        "203.0.113.7",
        "/video/admin/login/",
    )


def test_a_wrong_password_is_422_opens_nothing_and_counts_against_the_browsers_address(
    service_client,
):
    _staff()

    answer = _forward(service_client, "alpine-staff", "wrong", ip="203.0.113.8")

    assert answer.status_code == 422 and answer.json()["code"] == "staff_login_invalid"
    assert not StaffSession.objects.exists()
    [attempt] = AccessAttempt.objects.all()
    assert (attempt.username, attempt.ip_address, attempt.failures_since_start) == (
        "alpine-staff",
        "203.0.113.8",
        1,
    )


@pytest.mark.parametrize("change", ["not_staff", "inactive", "unknown"])
def test_only_an_active_staff_account_signs_in(service_client, change):
    user = _staff()
    if change == "not_staff":
        user.is_staff = False
    elif change == "inactive":
        user.is_active = False
    user.save()
    username = "nobody" if change == "unknown" else "alpine-staff"

    answer = _forward(service_client, username, "right-password")

    assert answer.status_code == 422 and answer.json()["code"] == "staff_login_invalid"
    assert not StaffSession.objects.exists()


@override_settings(AXES_FAILURE_LIMIT=3)
def test_repeated_wrong_passwords_lock_the_user_out_here_and_at_catalogs_own_login(
    service_client,
):
    _staff()

    failures = [_forward(service_client, "alpine-staff", "wrong").status_code for _ in range(3)]
    locked = _forward(service_client, "alpine-staff", "right-password", ip="198.51.100.1")
    own_login = Client().post(
        f"{ADMIN}/login/",
        {"username": "alpine-staff", "password": "right-password"},
        REMOTE_ADDR="198.51.100.2",
    )

    assert failures == [422, 422, 403]
    assert locked.status_code == 403 and locked.json()["code"] == "staff_login_locked_out"
    assert own_login.status_code == 429
    assert not StaffSession.objects.exists()


@override_settings(AXES_FAILURE_LIMIT=2, AXES_COOLOFF_TIME=timedelta(minutes=7))
def test_a_lockout_answers_how_long_it_lasts_here(service_client):
    _staff()
    for _ in range(2):
        _forward(service_client, "alpine-staff", "wrong")

    locked = _forward(service_client, "alpine-staff", "right-password")
    with override_settings(AXES_COOLOFF_TIME=None):
        until_lifted = _forward(service_client, "alpine-staff", "right-password")

    assert (locked.status_code, locked.json()["cooloff_seconds"]) == (403, 420)
    assert (until_lifted.status_code, until_lifted.json()["cooloff_seconds"]) == (403, None)


@override_settings(AXES_FAILURE_LIMIT=3)
def test_a_lockout_at_catalogs_own_login_holds_for_a_forwarded_sign_in_from_that_address(
    service_client,
):
    _staff("alpine-staff")
    _staff("other-staff")
    for _ in range(3):
        Client().post(
            f"{ADMIN}/login/",
            {"username": "alpine-staff", "password": "wrong"},
            REMOTE_ADDR="203.0.113.9",
        )

    same_address = _forward(service_client, "other-staff", "right-password", ip="203.0.113.9")
    other_address = _forward(service_client, "other-staff", "right-password", ip="203.0.113.10")

    assert same_address.status_code == 403
    assert other_address.status_code == 201


@override_settings(AXES_FAILURE_LIMIT=3)
def test_the_right_password_before_the_limit_resets_the_count(service_client):
    _staff()
    for _ in range(2):
        _forward(service_client, "alpine-staff", "wrong")

    assert _forward(service_client, "alpine-staff", "right-password").status_code == 201
    assert [_forward(service_client, "alpine-staff", "wrong").status_code for _ in range(2)] == [
        422,
        422,
    ]


@pytest.mark.parametrize(
    "body",
    [
        {},
        {"username": "a", "password": "b"},
        {"username": "a", "password": "b", "client_ip": "not-an-address"},
        {"username": 1, "password": "b", "client_ip": None},
        {"username": "a", "password": ["b"], "client_ip": None},
        [],
    ],
)
def test_bad_sign_in_bodies_are_400_and_open_nothing(service_client, body):
    _staff()

    answer = service_client.post(SIGN_IN, body, format="json")

    assert answer.status_code == 400 and answer.json()["code"] == "validation_error"
    assert not StaffSession.objects.exists()


def test_only_services_may_forward_a_sign_in(user_client, api_client):
    _staff()
    body = {"username": "alpine-staff", "password": "right-password", "client_ip": None}

    assert user_client.post(SIGN_IN, body, format="json").status_code == 403
    assert api_client.post(SIGN_IN, body, format="json").status_code == 401
    assert not StaffSession.objects.exists()


def test_catalogs_admin_follows_a_sign_in_made_at_another_admin(service_client):
    _staff()
    token = _forward(service_client, "alpine-staff", "right-password").json()["token"]
    browser = Client()
    browser.cookies[CONSOLE_COOKIE] = console_cookie_value(token)

    page = browser.get(f"{ADMIN}/")

    assert page.status_code == 200 and page.context["user"].username == "alpine-staff"
    # It took that sign-in over (no second one), and the cookie stays as it was.
    assert StaffSession.objects.count() == 1
    assert CONSOLE_COOKIE not in page.cookies
    # Signing out here ends it for the other admins too.
    browser.post(f"{ADMIN}/logout/")
    assert service_client.post(CHECK, {"token": token}, format="json").status_code == 404


def test_a_later_sign_in_elsewhere_replaces_catalogs_and_ends_the_earlier_one(service_client):
    client, first_token, _ = _signed_in("first-staff")
    _staff("second-staff")
    second = _forward(service_client, "second-staff", "right-password").json()["token"]
    client.cookies[CONSOLE_COOKIE] = console_cookie_value(second)

    page = client.get(f"{ADMIN}/")

    assert page.status_code == 200 and page.context["user"].username == "second-staff"
    assert service_client.post(CHECK, {"token": first_token}, format="json").status_code == 404
    assert service_client.post(CHECK, {"token": second}, format="json").status_code == 200


def test_a_sign_in_that_ran_out_sends_catalogs_admin_to_sign_in_again_saying_so():
    client, _, _ = _signed_in()
    StaffSession.objects.update(expires_at=timezone.now() - timedelta(seconds=1))

    page = client.get(f"{ADMIN}/", follow=True)

    assert page.redirect_chain[-1][0].startswith(f"{ADMIN}/login/")
    assert "Your sign-in has expired" in page.content.decode()
    assert client.cookies[CONSOLE_COOKIE].value == ""
