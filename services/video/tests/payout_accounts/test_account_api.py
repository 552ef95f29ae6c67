"""Creators' payout accounts (issue 16, Accounts): the status mapping and `GET`/`POST
/api/v1/creators/me/payout-account/`, with the real stripe SDK against the localstripe
emulator (its Connect: Express accounts, account links)."""

from __future__ import annotations

import threading

import pytest
from django.db import connections

from clipcart_shared.connect import payout_status_of
from clipcart_tools.localstripe import (
    complete_account_link,
    restrict_account,
    stripe_client,
)
from payouts.models import CreatorPayoutAccount
from payouts.services import creator_payout_account_onboard
from tests.factories import CreatorFactory
from tests.payout_accounts.conftest import (
    STRIPE_KEY,
    URL,
    _account,
    _onboarded,
)

pytestmark = pytest.mark.django_db


# --- status mapping --------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("fields", "expected"),
    [
        ({}, "pending"),  # just created: onboarding not submitted
        ({"requirements": {"disabled_reason": None}}, "pending"),
        (
            {"details_submitted": True, "requirements": {"disabled_reason": "under_review"}},
            "pending",
        ),
        (
            {
                "details_submitted": True,
                "requirements": {"disabled_reason": "requirements.pending_verification"},
            },
            "pending",
        ),
        (
            {
                "charges_enabled": True,
                "payouts_enabled": True,
                "details_submitted": True,
                "requirements": {"disabled_reason": None},
            },
            "enabled",
        ),
        ({"details_submitted": True}, "restricted"),  # past due after onboarding
        (
            {"details_submitted": True, "requirements": {"disabled_reason": "rejected.fraud"}},
            "restricted",
        ),
        (
            {
                "charges_enabled": True,
                "payouts_enabled": False,
                "details_submitted": True,
                "requirements": {"disabled_reason": None},
            },
            "restricted",
        ),
        (
            {
                "charges_enabled": True,
                "payouts_enabled": True,
                "details_submitted": True,
                "requirements": {"disabled_reason": "platform_paused"},
            },
            "restricted",
        ),
    ],
)
def test_status_follows_stripes_account_fields(fields, expected):
    assert payout_status_of(_account(**fields)) == expected


def test_status_of_the_emulators_accounts_as_stripe_shapes_them(stripe_emulator):
    stripe = stripe_client(stripe_emulator, STRIPE_KEY)
    account = stripe.v1.accounts.create(
        {"type": "express", "capabilities": {"transfers": {"requested": True}}}
    )
    link = stripe.v1.account_links.create(
        {
            "account": account.id,
            "type": "account_onboarding",
            "refresh_url": "https://app.example/r",
            "return_url": "https://app.example/x",
        }
    )
    new = payout_status_of(account.to_dict())
    enabled = payout_status_of(complete_account_link(link.url)["account"])
    restricted = payout_status_of(restrict_account(stripe_emulator, account.id))

    assert (new, enabled, restricted) == ("pending", "enabled", "restricted")


# --- GET and POST /creators/me/payout-account/ -----------------------------------------------


def test_a_creator_without_an_account_has_status_none(client_for):
    CreatorFactory(user_id="ada")

    response = client_for("ada").get(URL)

    assert response.status_code == 200
    assert response.json() == {"status": "none", "updated_at": None}


def test_post_creates_one_express_account_and_answers_a_fresh_onboarding_link_each_time(
    client_for, stripe_emulator
):
    creator = CreatorFactory(user_id="ada")
    client = client_for("ada")

    first = client.post(URL)
    second = client.post(URL)

    assert first.status_code == second.status_code == 200
    assert first.json()["onboarding_url"] != second.json()["onboarding_url"]
    account = CreatorPayoutAccount.objects.get()
    assert (account.creator_id, account.status) == (creator.id, "pending")
    at_stripe = stripe_client(stripe_emulator, STRIPE_KEY).v1.accounts.retrieve(
        account.stripe_account_id
    )
    assert at_stripe.type == "express"
    assert at_stripe.capabilities.to_dict() == {"transfers": "inactive"}
    assert at_stripe.metadata.to_dict() == {"creator_id": str(creator.id), "user_id": "ada"}
    assert client.get(URL).json()["status"] == "pending"


def test_a_lost_row_after_stripe_made_the_account_gets_the_same_account_again(
    client_for, stripe_emulator
):
    # The row write failed after Stripe answered (say, the process died): the retry's
    # create is keyed by the creator, so Stripe answers the same account, not a second.
    CreatorFactory(user_id="ada")
    client = client_for("ada")
    made = _onboarded(client).stripe_account_id
    CreatorPayoutAccount.objects.all().delete()

    _onboarded(client)

    assert CreatorPayoutAccount.objects.get().stripe_account_id == made


@pytest.mark.parametrize("method", ["get", "post"])
def test_anonymous_callers_are_401(api_client, method):
    response = getattr(api_client, method)(URL)

    assert response.status_code == 401
    assert response["Content-Type"].startswith("application/problem+json")


@pytest.mark.parametrize("method", ["get", "post"])
def test_a_user_who_is_no_creator_is_403_not_a_creator_and_nothing_is_made(
    client_for, stripe_emulator, method
):
    response = getattr(client_for("not-a-creator"), method)(URL)

    assert response.status_code == 403
    assert response["Content-Type"].startswith("application/problem+json")
    assert response.json()["code"] == "not_a_creator"
    assert CreatorPayoutAccount.objects.count() == 0


def test_stripe_unreachable_is_503_and_nothing_is_written(client_for, stripe_down):
    CreatorFactory(user_id="ada")

    response = client_for("ada").post(URL)

    assert response.status_code == 503
    assert response.json()["code"] == "payout_provider_unavailable"
    assert CreatorPayoutAccount.objects.count() == 0


def test_stripe_refusing_is_502(client_for, stripe_emulator, settings):
    CreatorFactory(user_id="ada")
    settings.CREATOR_PAYOUT_RETURN_URL = ""  # Stripe refuses a link without a return URL

    response = client_for("ada").post(URL)

    assert response.status_code == 502
    assert response.json()["code"] == "payout_provider_rejected"


@pytest.mark.django_db(transaction=True)
def test_concurrent_set_ups_of_one_creator_make_one_account(stripe_emulator):
    # Both requests find no row and ask Stripe; the key (the creator's id) makes Stripe
    # answer one account, and the unique row is written once.
    creator = CreatorFactory(user_id="ada")
    barrier = threading.Barrier(6)
    urls: list[str] = []
    errors: list[Exception] = []

    def set_up() -> None:
        try:
            barrier.wait()
            urls.append(creator_payout_account_onboard(creator=creator))
        except Exception as error:  # pragma: no cover - reported below
            errors.append(error)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=set_up) for _ in range(6)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert errors == []
    assert len(set(urls)) == 6
    assert CreatorPayoutAccount.objects.count() == 1
    linked = {complete_account_link(url)["account"]["id"] for url in urls}
    assert linked == {CreatorPayoutAccount.objects.get().stripe_account_id}
