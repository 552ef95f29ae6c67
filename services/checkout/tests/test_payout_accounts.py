"""Merchants' payout accounts follow Stripe's `account.updated`, received through
checkout's one signed Stripe webhook (issue 16, Accounts); the order's PaymentIntent
carries `transfer_group` = the order's id (separate charges and transfers)."""

from __future__ import annotations

import time
import uuid

import pytest

from clipcart_tools.localstripe import complete_account_link, restrict_account, stripe_client
from orders.models import Order
from payments.models import MerchantPayoutAccount, WebhookEvent
from payments.payouts import merchant_payout_account_onboard
from tests.conftest import ADDRESS, STRIPE_KEY, stripe_event, webhook_post

pytestmark = pytest.mark.django_db

MERCHANT = uuid.UUID("00000000-0000-4000-8000-00000000000a")


@pytest.fixture
def onboarding(stripe_emulator) -> str:
    """Merchant's set-up done as the admin does it: its account made, a link to complete."""
    return merchant_payout_account_onboard(
        merchant_id=MERCHANT,
        created_by="admin:test",
        refresh_url="https://shop.example/refresh",
        return_url="https://shop.example/return",
    )


def _account_updated(account: dict, *, created: int | None = None, event_id: str | None = None):
    event = stripe_event("account.updated", account, event_id)
    event["account"] = account["id"]
    if created is not None:
        event["created"] = created
    return event


def test_completed_onboarding_enables_the_merchants_account(api_client, onboarding):
    completed = complete_account_link(onboarding)["account"]

    response = webhook_post(api_client, _account_updated(completed))

    assert response.status_code == 200
    account = MerchantPayoutAccount.objects.get()
    assert (account.stripe_account_id, account.status) == (completed["id"], "enabled")
    assert WebhookEvent.objects.get().status == "processed"


def test_a_restricted_account_is_restricted_and_a_late_older_event_does_not_undo_it(
    api_client, stripe_emulator, onboarding
):
    completed = complete_account_link(onboarding)["account"]
    now = int(time.time())
    webhook_post(api_client, _account_updated(completed, created=now - 10))
    restricted = restrict_account(stripe_emulator, completed["id"])
    webhook_post(api_client, _account_updated(restricted, created=now))

    late = webhook_post(api_client, _account_updated(completed, created=now - 5))

    assert late.status_code == 200
    assert MerchantPayoutAccount.objects.get().status == "restricted"
    assert WebhookEvent.objects.order_by("id").last().error == (
        "older than the status already applied"
    )


def test_a_replayed_account_event_is_a_duplicate_applied_once(
    api_client, stripe_emulator, onboarding
):
    completed = complete_account_link(onboarding)["account"]
    event = _account_updated(completed)
    webhook_post(api_client, event)

    replay = webhook_post(api_client, event)

    assert replay.json() == {"received": True, "duplicate": True}
    assert WebhookEvent.objects.count() == 1
    assert MerchantPayoutAccount.objects.get().status == "enabled"


def test_an_account_that_is_no_merchants_is_ignored(api_client, stripe_emulator):
    account = stripe_client(stripe_emulator, STRIPE_KEY).v1.accounts.create(
        {"type": "express", "capabilities": {"transfers": {"requested": True}}}
    )

    response = webhook_post(api_client, _account_updated(account.to_dict()))

    assert response.status_code == 200
    logged = WebhookEvent.objects.get()
    assert (logged.status, logged.error) == ("ignored", "not a merchant's account")


def test_an_account_event_without_an_account_is_ignored(api_client, stripe_emulator):
    response = webhook_post(api_client, stripe_event("account.updated", ["not", "an", "account"]))

    assert response.status_code == 200
    assert WebhookEvent.objects.get().status == "ignored"


def test_a_badly_signed_account_event_is_400_and_changes_nothing(api_client, onboarding):
    completed = complete_account_link(onboarding)["account"]

    response = webhook_post(api_client, _account_updated(completed), secret="whsec_wrong")

    assert response.status_code == 400
    assert response.json()["code"] == "invalid_signature"
    assert MerchantPayoutAccount.objects.get().status == "pending"


def test_the_payment_intent_carries_the_order_id_as_its_transfer_group(
    client_for, catalog, stripe_emulator, variants
):
    response = client_for("u-transfer-group").post(
        "/api/v1/checkouts/",
        {
            "email": "ada@example.com",
            "shipping_address": ADDRESS,
            "lines": [{"variant_id": variants[0]["id"], "quantity": 1}],
        },
        format="json",
        HTTP_IDEMPOTENCY_KEY=str(uuid.uuid4()),
    )

    assert response.status_code == 201, response.json()
    order = Order.objects.get()
    intent = stripe_client(stripe_emulator, STRIPE_KEY).v1.payment_intents.retrieve(
        order.payment_intent_id
    )
    assert intent.transfer_group == str(order.id)
