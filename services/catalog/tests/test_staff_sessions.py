"""Catalog owns the admins' sign-ins (ADR 23): its login opens one and sets the shared
cookie, its logout ends it, and `/internal/v1/staff-sessions/` answers the other admins."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.test import Client
from django.utils import timezone
from staff.models import StaffSession

from clipcart_shared.console.cookie import CONSOLE_COOKIE, console_token_load
from merchants.models import Merchant
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
