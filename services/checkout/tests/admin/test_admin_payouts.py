"""Merchants' payout accounts in the checkout admin (issue 16, Accounts): "Set up payouts"
makes the merchant's Stripe Express account (once) and sends the user to Stripe's
onboarding; merchant staff do it for their own merchant only (another merchant's is 404,
with nothing made), platform staff for any. Stripe is the emulator, through the real SDK."""

from __future__ import annotations

import uuid
from typing import Any

import pytest
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group, Permission
from django.contrib.messages import get_messages
from django.test import Client

from clipcart_shared.merchant_access.demo_logins import DEMO_MERCHANTS, STAFF_GROUP, demo_id
from clipcart_shared.merchant_access.models import MerchantMembership
from clipcart_tools.localstripe import complete_account_link, stripe_client
from clipcart_tools.testing.fixtures import signed_in
from core.management.commands.seed_demo import STAFF_PERMISSIONS
from payments.models import MerchantPayoutAccount
from tests.conftest import STRIPE_KEY

pytestmark = pytest.mark.django_db

ACCOUNTS = "/checkout/admin/payments/merchantpayoutaccount"
SET_UP = f"{ACCOUNTS}/set-up/"
SLUG_A, SLUG_B = sorted(DEMO_MERCHANTS)[:2]
MERCHANT_A, MERCHANT_B = demo_id("merchant", SLUG_A), demo_id("merchant", SLUG_B)


def _staff_of(merchant_id: uuid.UUID, slug: str, permissions: list[tuple[str, str]]) -> Client:
    group, _ = Group.objects.get_or_create(name=f"{STAFF_GROUP} {len(permissions)}")
    group.permissions.set(
        [
            Permission.objects.get(content_type__app_label=app, codename=codename)
            for app, codename in permissions
        ]
    )
    user = get_user_model().objects.create_user(username=f"staff-of-{slug}", is_staff=True)
    user.groups.add(group)
    MerchantMembership.objects.create(
        user=user, merchant_id=merchant_id, merchant_name=DEMO_MERCHANTS[slug]
    )
    return signed_in(user)


@pytest.fixture
def staff_a() -> Client:
    """Staff of A, with the permissions the seed (and the console) give merchant staff."""
    return _staff_of(MERCHANT_A, SLUG_A, list(STAFF_PERMISSIONS))


@pytest.fixture
def staff_b() -> Client:
    return _staff_of(MERCHANT_B, SLUG_B, list(STAFF_PERMISSIONS))


def _messages(response: Any) -> list[str]:
    return [str(message) for message in get_messages(response.wsgi_request)]


def test_merchant_staff_are_given_set_up_and_view_by_the_console_permissions():
    given = set(STAFF_PERMISSIONS)

    assert ("payments", "view_merchantpayoutaccount") in given
    assert ("payments", "add_merchantpayoutaccount") in given


def test_the_list_offers_set_up_payouts_and_the_page_offers_only_their_merchant(staff_a):
    listing = staff_a.get(f"{ACCOUNTS}/")
    page = staff_a.get(SET_UP)

    assert listing.status_code == 200
    assert SET_UP in listing.content.decode()
    assert page.status_code == 200
    choices = list(page.context["form"].fields["merchant_id"].choices)
    assert choices == [(str(MERCHANT_A), DEMO_MERCHANTS[SLUG_A])]


def test_set_up_makes_one_express_account_and_redirects_to_stripes_onboarding(
    staff_a, stripe_emulator
):
    first = staff_a.post(SET_UP, {"merchant_id": str(MERCHANT_A)})
    again = staff_a.post(SET_UP, {"merchant_id": str(MERCHANT_A)})

    assert first.status_code == again.status_code == 302
    assert first["Location"].startswith(f"{stripe_emulator}/_config/account_links/")
    assert first["Location"] != again["Location"]  # a link works once: a new one each time
    account = MerchantPayoutAccount.objects.get()
    assert (account.merchant_id, account.status) == (MERCHANT_A, "pending")
    assert account.created_by == f"admin:staff-of-{SLUG_A}"
    at_stripe = stripe_client(stripe_emulator, STRIPE_KEY).v1.accounts.retrieve(
        account.stripe_account_id
    )
    assert at_stripe.type == "express"
    assert at_stripe.metadata["merchant_id"] == str(MERCHANT_A)


def test_stripe_sends_the_user_back_to_the_list_and_an_expired_link_to_a_new_one(
    staff_a, stripe_emulator
):
    first = staff_a.post(SET_UP, {"merchant_id": str(MERCHANT_A)})
    account = MerchantPayoutAccount.objects.get()

    refreshed = staff_a.get(f"{SET_UP}{MERCHANT_A}/")
    completed = complete_account_link(refreshed["Location"])

    assert refreshed.status_code == 302
    assert refreshed["Location"] != first["Location"]
    assert completed["return_url"] == f"http://testserver{ACCOUNTS}/"
    assert completed["account"]["id"] == account.stripe_account_id  # no second account
    assert MerchantPayoutAccount.objects.count() == 1


def test_set_up_again_for_a_merchant_without_an_account_is_404(staff_a, stripe_emulator):
    assert staff_a.get(f"{SET_UP}{MERCHANT_A}/").status_code == 404


def test_staff_of_b_cannot_set_up_payouts_for_a_and_nothing_is_made(staff_b, stripe_emulator):
    response = staff_b.post(SET_UP, {"merchant_id": str(MERCHANT_A)})

    assert response.status_code == 404
    assert MerchantPayoutAccount.objects.count() == 0


def test_staff_of_b_neither_see_nor_refresh_as_account(staff_a, staff_b, stripe_emulator):
    staff_a.post(SET_UP, {"merchant_id": str(MERCHANT_A)})
    account = MerchantPayoutAccount.objects.get()

    listing = staff_b.get(f"{ACCOUNTS}/")
    change = staff_b.get(f"{ACCOUNTS}/{account.pk}/change/")
    refresh = staff_b.get(f"{SET_UP}{MERCHANT_A}/")

    assert listing.status_code == 200
    assert account.stripe_account_id not in listing.content.decode()
    assert change.status_code == refresh.status_code == 404


def test_platform_staff_set_up_any_merchant_and_see_every_account(
    superuser_client, staff_a, stripe_emulator
):
    staff_a.post(SET_UP, {"merchant_id": str(MERCHANT_A)})

    response = superuser_client.post(SET_UP, {"merchant_id": str(MERCHANT_B)})
    listing = superuser_client.get(f"{ACCOUNTS}/").content.decode()

    assert response.status_code == 302
    assert set(MerchantPayoutAccount.objects.values_list("merchant_id", flat=True)) == {
        MERCHANT_A,
        MERCHANT_B,
    }
    assert all(a.stripe_account_id in listing for a in MerchantPayoutAccount.objects.all())


def test_staff_without_the_set_up_permission_are_403(stripe_emulator):
    view_only = [p for p in STAFF_PERMISSIONS if p != ("payments", "add_merchantpayoutaccount")]
    client = _staff_of(MERCHANT_A, SLUG_A, view_only)

    assert client.get(SET_UP).status_code == 403
    assert client.post(SET_UP, {"merchant_id": str(MERCHANT_A)}).status_code == 403
    assert SET_UP not in client.get(f"{ACCOUNTS}/").content.decode()
    assert MerchantPayoutAccount.objects.count() == 0


def test_not_a_merchant_id_is_shown_on_the_form(staff_a, stripe_emulator):
    response = staff_a.post(SET_UP, {"merchant_id": "not-a-uuid"})

    assert response.status_code == 200
    assert response.context["form"].errors["merchant_id"]
    assert MerchantPayoutAccount.objects.count() == 0


def test_stripe_unreachable_goes_back_to_the_list_with_the_reason_and_makes_nothing(
    staff_a, stripe_down
):
    response = staff_a.post(SET_UP, {"merchant_id": str(MERCHANT_A)})

    assert response.status_code == 302
    assert response["Location"] == f"{ACCOUNTS}/"
    assert _messages(response)[0].startswith("Stripe could not set up payouts now")
    assert MerchantPayoutAccount.objects.count() == 0
