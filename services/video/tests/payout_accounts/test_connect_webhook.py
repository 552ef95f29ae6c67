"""Creators' payout accounts follow Stripe's Connect webhook
(`/api/v1/creators/payout-accounts/stripe-webhook/`): signed `account.updated` from the
localstripe emulator, applied once and in order."""

from __future__ import annotations

import time

import pytest

from clipcart_tools.localstripe import (
    complete_account_link,
    restrict_account,
)
from payouts.models import ConnectWebhookEvent, CreatorPayoutAccount
from tests.factories import CreatorFactory
from tests.payout_accounts.conftest import (
    SECRET,
    URL,
    WEBHOOK,
    _account,
    _account_event,
    _deliver,
    _onboarded,
    _signed,
)

pytestmark = pytest.mark.django_db


# --- the Connect webhook -------------------------------------------------------------------------


def test_onboarding_completed_at_stripe_enables_the_account_through_the_signed_event(
    client_for, api_client, stripe_emulator, receiver
):
    CreatorFactory(user_id="ada")
    client = client_for("ada")
    url = client.post(URL).json()["onboarding_url"]

    complete_account_link(url)
    response = _deliver(api_client, *receiver.delivery())

    assert response.status_code == 200
    assert response.json() == {"received": True, "duplicate": False}
    assert client.get(URL).json()["status"] == "enabled"
    assert ConnectWebhookEvent.objects.get().outcome == "processed"


def test_a_restricted_account_is_restricted(client_for, api_client, stripe_emulator, receiver):
    CreatorFactory(user_id="ada")
    client = client_for("ada")
    complete_account_link(client.post(URL).json()["onboarding_url"])
    _deliver(api_client, *receiver.delivery())
    account = CreatorPayoutAccount.objects.get()

    restrict_account(stripe_emulator, account.stripe_account_id, "requirements.past_due")
    _deliver(api_client, *receiver.delivery())

    assert client.get(URL).json()["status"] == "restricted"


def test_a_replayed_event_is_answered_as_a_duplicate_and_not_applied_again(
    client_for, api_client, stripe_emulator, receiver
):
    CreatorFactory(user_id="ada")
    client = client_for("ada")
    complete_account_link(client.post(URL).json()["onboarding_url"])
    enabled_delivery = receiver.delivery()
    _deliver(api_client, *enabled_delivery)
    restrict_account(stripe_emulator, CreatorPayoutAccount.objects.get().stripe_account_id)
    _deliver(api_client, *receiver.delivery())

    replay = _deliver(api_client, *enabled_delivery)

    assert replay.status_code == 200
    assert replay.json() == {"received": True, "duplicate": True}
    assert client.get(URL).json()["status"] == "restricted"
    assert ConnectWebhookEvent.objects.count() == 2


def test_an_event_older_than_the_status_does_not_overwrite_it(
    client_for, api_client, stripe_emulator
):
    CreatorFactory(user_id="ada")
    account = _onboarded(client_for("ada"))
    enabled = _account(
        id=account.stripe_account_id,
        charges_enabled=True,
        payouts_enabled=True,
        details_submitted=True,
        requirements={"disabled_reason": None},
    )
    now = int(time.time())
    _deliver(api_client, *_signed(_account_event(enabled, created=now)))

    older = _account_event(_account(id=enabled["id"]), created=now - 60)
    late = _deliver(api_client, *_signed(older))

    assert late.status_code == 200
    account.refresh_from_db()
    assert account.status == "enabled"
    assert ConnectWebhookEvent.objects.order_by("id").last().reason == (
        "older than the status already applied"
    )


def test_an_account_that_is_no_creators_is_acknowledged_and_ignored(api_client, stripe_emulator):
    event = _account_event(_account(id="acct_of_a_merchant"))

    response = _deliver(api_client, *_signed(event))

    assert response.status_code == 200
    logged = ConnectWebhookEvent.objects.get()
    assert (logged.outcome, logged.reason) == ("ignored", "not a creator's account")
    assert CreatorPayoutAccount.objects.count() == 0


def test_another_event_type_is_acknowledged_and_ignored(client_for, api_client, stripe_emulator):
    CreatorFactory(user_id="ada")
    account = _onboarded(client_for("ada"))
    event = {
        **_account_event(_account(id=account.stripe_account_id, details_submitted=True)),
        "type": "account.application.deauthorized",
    }

    response = _deliver(api_client, *_signed(event))

    assert response.status_code == 200
    account.refresh_from_db()
    assert account.status == "pending"
    assert ConnectWebhookEvent.objects.get().outcome == "ignored"


@pytest.mark.parametrize(
    "signing",
    [{"secret": "whsec_wrong"}, {"age": 301}],
    ids=["wrong secret", "older than the tolerance"],
)
def test_a_bad_signature_is_400_invalid_signature_and_nothing_is_written(
    api_client, stripe_emulator, signing
):
    payload, signature = _signed(_account_event(_account(id="acct_x")), **signing)

    response = _deliver(api_client, payload, signature)

    assert response.status_code == 400
    assert response["Content-Type"].startswith("application/problem+json")
    assert response.json()["code"] == "invalid_signature"
    assert ConnectWebhookEvent.objects.count() == 0


def test_no_signature_header_is_400(api_client, stripe_emulator):
    response = api_client.post(WEBHOOK, _account_event(_account(id="acct_x")), format="json")

    assert response.status_code == 400
    assert response.json()["code"] == "invalid_signature"


def test_every_configured_secret_verifies_while_one_is_rotated(
    api_client, stripe_emulator, settings
):
    settings.VIDEO_STRIPE_WEBHOOK_SECRETS = ["whsec_real", SECRET]

    response = _deliver(api_client, *_signed(_account_event(_account(id="acct_x"))))

    assert response.status_code == 200


@pytest.mark.parametrize(
    "body",
    [
        b"not json",
        [1, 2],
        {"id": 7, "type": "account.updated", "created": 1, "data": {"object": {}}},
        {"id": "evt_1", "type": ["account.updated"], "created": 1, "data": {"object": {}}},
        {"id": "evt_1", "type": "account.updated", "created": "now", "data": {"object": {}}},
        {"id": "evt_1", "type": "account.updated", "created": 1, "data": {"object": [1]}},
        {"id": "evt_1", "type": "account.updated", "created": 1},
    ],
    ids=[
        "not json",
        "a list",
        "id a number",
        "type a list",
        "created a string",
        "object a list",
        "no data",
    ],
)
def test_a_signed_body_that_is_no_stripe_event_is_400_and_nothing_is_written(
    api_client, stripe_emulator, body
):
    response = _deliver(api_client, *_signed(body))

    assert response.status_code == 400
    assert response["Content-Type"].startswith("application/problem+json")
    # A body that is not JSON at all is no signed event (as checkout's intake answers).
    expected = "invalid_signature" if body == b"not json" else "invalid_event"
    assert response.json()["code"] == expected
    assert ConnectWebhookEvent.objects.count() == 0
