"""The emulator's Connect accounts (infra/localstripe/connect.py), through the real stripe
SDK: Express onboarding and its signed ``account.updated`` webhook, transfers refused to
accounts not enabled, bad account and link requests, the runner's Connect webhook."""

from __future__ import annotations

import time

import pytest
import stripe

from clipcart_tools.localstripe import (
    LocalstripeError,
    complete_account_link,
    localstripe_server,
    restrict_account,
    stripe_client,
)
from tests.infra.localstripe_connect.conftest import (
    SECRET,
    Receiver,
    _opener,
    available,
    charge,
    enabled_account,
    new_account,
)


def test_onboarding_enables_the_account_and_sends_a_signed_account_updated(
    client: stripe.StripeClient, receiver: Receiver
) -> None:
    account = new_account(client)
    assert account.id.startswith("acct_")
    assert (account.type, account.country, account.email) == ("express", "DE", account.email)
    assert not (account.charges_enabled or account.payouts_enabled or account.details_submitted)
    assert account.capabilities.transfers == "inactive"
    assert account.requirements.currently_due
    assert account.requirements.disabled_reason == "requirements.past_due"
    assert account.metadata.to_dict() == {"merchant_id": "m1"}

    link = client.v1.account_links.create(
        {
            "account": account.id,
            "refresh_url": "https://app.example/refresh",
            "return_url": "https://app.example/return",
            "type": "account_onboarding",
        }
    )
    assert link.object == "account_link"
    assert link.expires_at > link.created
    with _opener.open(link.url, timeout=10) as response:
        assert response.status == 200

    enabled = client.v1.accounts.retrieve(account.id)
    assert enabled.charges_enabled and enabled.payouts_enabled and enabled.details_submitted
    assert enabled.capabilities.transfers == "active"
    assert enabled.requirements.currently_due == []
    assert enabled.requirements.disabled_reason is None

    event = receiver.event()
    assert event.type == "account.updated"
    assert event.account == account.id
    assert event.data.object.id == account.id
    assert event.data.object.charges_enabled is True

    # A link is used once (the browser's GET above, or complete_account_link's POST).
    with pytest.raises(LocalstripeError) as used:
        complete_account_link(link.url)
    assert used.value.status == 400

    charge(client, 2000)
    transfer = client.v1.transfers.create(
        {"amount": 1500, "currency": "eur", "destination": account.id}
    )
    assert (transfer.object, transfer.destination, transfer.amount) == (
        "transfer",
        account.id,
        1500,
    )
    assert client.v1.transfers.retrieve(transfer.id).amount_reversed == 0


def test_a_transfer_to_an_account_not_enabled_is_refused(
    client: stripe.StripeClient, base: str, receiver: Receiver
) -> None:
    charge(client, 5000)
    pending = new_account(client)
    with pytest.raises(stripe.InvalidRequestError) as not_onboarded:
        client.v1.transfers.create({"amount": 100, "currency": "eur", "destination": pending.id})
    assert not_onboarded.value.http_status == 400
    assert not_onboarded.value.param == "destination"
    assert "capabilities enabled: transfers" in str(not_onboarded.value.user_message)

    with pytest.raises(stripe.InvalidRequestError) as unknown:
        client.v1.transfers.create({"amount": 100, "currency": "eur", "destination": "acct_x"})
    assert (unknown.value.http_status, unknown.value.code) == (400, "resource_missing")

    # Enabled, then restricted by Stripe: refused again, and the account says why.
    account = enabled_account(client)
    assert receiver.event().data.object.charges_enabled is True
    restrict_account(base, account, "rejected.fraud", ["individual.verification.document"])
    restricted = client.v1.accounts.retrieve(account)
    assert restricted.requirements.disabled_reason == "rejected.fraud"
    assert restricted.requirements.currently_due == ["individual.verification.document"]
    assert (restricted.charges_enabled, restricted.capabilities.transfers) == (False, "inactive")
    event = receiver.event()
    assert event.data.object.requirements.disabled_reason == "rejected.fraud"
    with pytest.raises(stripe.InvalidRequestError):
        client.v1.transfers.create({"amount": 100, "currency": "eur", "destination": account})

    assert client.v1.transfers.list().data == []
    assert available(client) == {"eur": 5000}


def test_bad_account_and_link_requests(client: stripe.StripeClient, base: str) -> None:
    with pytest.raises(stripe.InvalidRequestError):
        client.v1.accounts.create({"type": "standard"})
    with pytest.raises(stripe.InvalidRequestError) as unknown:
        client.v1.accounts.retrieve("acct_missing")
    assert unknown.value.http_status == 404
    account = new_account(client)
    with pytest.raises(stripe.InvalidRequestError) as wrong_type:
        client.v1.account_links.create(
            {
                "account": account.id,
                "refresh_url": "https://a/r",
                "return_url": "https://a/x",
                "type": "account_update",
            }
        )
    assert wrong_type.value.param == "type"
    with pytest.raises(stripe.InvalidRequestError) as no_return:
        client.v1.account_links.create(
            {"account": account.id, "refresh_url": "https://a/r", "type": "account_onboarding"}
        )
    assert (no_return.value.code, no_return.value.param) == ("parameter_missing", "return_url")
    with pytest.raises(LocalstripeError) as no_account:
        restrict_account(base, "acct_missing")
    assert no_account.value.status == 404

    updated = client.v1.accounts.update(account.id, {"metadata": {"merchant_id": "", "x": "1"}})
    assert updated.metadata.to_dict() == {"x": "1"}
    assert client.v1.accounts.retrieve(account.id).charges_enabled is False


def test_the_runner_sends_account_updated_to_a_connect_webhook_given_at_start() -> None:
    # `--connect-webhook` (infra/Procfile, docker-compose.yml: video's endpoint) receives
    # account.updated, signed with its own secret, and no payment events.
    receiver = Receiver()
    options = ["--connect-webhook", receiver.url, "--connect-webhook-secret", SECRET]
    try:
        with localstripe_server(arguments=options) as base_url:
            client = stripe_client(base_url)
            account = enabled_account(client)
            event = receiver.event()
            charge(client, 5000)
            time.sleep(1.5)  # the emulator delivers about 1 s after the event

            assert (event.type, event.data.object.id) == ("account.updated", account)
            assert event.data.object.charges_enabled is True
            assert receiver.received.empty()
    finally:
        receiver.close()
