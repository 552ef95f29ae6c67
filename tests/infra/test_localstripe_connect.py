"""The emulator's Stripe Connect (infra/localstripe/connect.py), driven by the real stripe SDK
against the runner: Express onboarding and its signed ``account.updated`` webhook, transfers
and their refusals, Idempotency-Key, reversals, and balances that add up."""

from __future__ import annotations

import time
import urllib.request
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import pytest
import stripe

from clipcart_tools.localstripe import (
    LocalstripeError,
    complete_account_link,
    flush,
    localstripe_server,
    register_webhook,
    restrict_account,
    stripe_client,
)
from clipcart_tools.testing.webhooks import WebhookReceiver

SECRET = "whsec_connect_test"
_opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))


class Receiver(WebhookReceiver):
    """A tiny webhook endpoint on 127.0.0.1, whose deliveries are read as verified events."""

    def event(self, timeout: float = 6.0) -> stripe.Event:
        body, signature = self.delivery(timeout)
        return stripe.Webhook.construct_event(body, signature, SECRET)


@pytest.fixture(scope="module")
def emulator() -> Iterator[tuple[str, Receiver]]:
    receiver = Receiver()
    with localstripe_server() as base_url:
        register_webhook(base_url, "connect-test", receiver.url, SECRET, ["account.updated"])
        yield base_url, receiver
    receiver.close()


@pytest.fixture
def base(emulator: tuple[str, Receiver]) -> str:
    flush(emulator[0])
    emulator[1].drain()
    return emulator[0]


@pytest.fixture
def receiver(emulator: tuple[str, Receiver], base: str) -> Receiver:
    return emulator[1]


@pytest.fixture
def client(base: str) -> stripe.StripeClient:
    return stripe_client(base)


def new_account(client: stripe.StripeClient, **extra: Any) -> stripe.Account:
    return client.v1.accounts.create(
        {
            "type": "express",
            "country": "DE",
            "email": "merchant@example.com",
            "capabilities": {"transfers": {"requested": True}},
            "metadata": {"merchant_id": "m1"},
            **extra,
        }
    )


def onboard(client: stripe.StripeClient, account_id: str) -> None:
    link = client.v1.account_links.create(
        {
            "account": account_id,
            "refresh_url": "https://app.example/refresh",
            "return_url": "https://app.example/return",
            "type": "account_onboarding",
        }
    )
    complete_account_link(link.url)


def enabled_account(client: stripe.StripeClient) -> str:
    account = new_account(client)
    onboard(client, account.id)
    return str(account.id)


def charge(client: stripe.StripeClient, amount: int, transfer_group: str = "order_1") -> Any:
    return client.v1.payment_intents.create(
        {
            "amount": amount,
            "currency": "eur",
            "payment_method": "pm_card_visa",
            "confirm": True,
            "transfer_group": transfer_group,
        }
    )


def available(client: stripe.StripeClient, account: str | None = None) -> dict[str, int]:
    options: Any = {"stripe_account": account} if account else {}
    balance = client.v1.balance.retrieve(options=options)
    assert [entry.amount for entry in balance.pending] == [0] * len(balance.pending)
    return {entry.currency: entry.amount for entry in balance.available}


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


def test_an_idempotent_transfer_is_made_once(client: stripe.StripeClient) -> None:
    charge(client, 5000)
    account = enabled_account(client)
    params = {
        "amount": 1200,
        "currency": "eur",
        "destination": account,
        "transfer_group": "order_1",
        "metadata": {"settlement": "s1"},
    }
    first = client.v1.transfers.create(params, options={"idempotency_key": "settle-s1"})
    again = client.v1.transfers.create(params, options={"idempotency_key": "settle-s1"})
    assert again.id == first.id
    assert [t.id for t in client.v1.transfers.list({"destination": account}).data] == [first.id]

    with pytest.raises(stripe.IdempotencyError) as other_params:
        client.v1.transfers.create(
            {**params, "amount": 1300}, options={"idempotency_key": "settle-s1"}
        )
    assert other_params.value.http_status == 400
    assert "same parameters" in str(other_params.value.user_message)

    # The key is the request's: another key is another transfer.
    client.v1.transfers.create(params, options={"idempotency_key": "settle-s2"})
    assert len(client.v1.transfers.list({"transfer_group": "order_1"}).data) == 2
    assert available(client) == {"eur": 5000 - 2 * 1200}


def test_concurrent_requests_with_one_key_make_one_transfer(base: str) -> None:
    client = stripe_client(base)
    charge(client, 5000)
    account = enabled_account(client)
    params = {"amount": 1000, "currency": "eur", "destination": account}

    def send(_: int) -> str:
        # A client per thread, as separate workers would have.
        own = stripe_client(base)
        return str(own.v1.transfers.create(params, options={"idempotency_key": "race"}).id)

    with ThreadPoolExecutor(max_workers=8) as pool:
        ids = set(pool.map(send, range(16)))
    assert len(ids) == 1
    assert [t.id for t in client.v1.transfers.list().data] == list(ids)
    assert available(client) == {"eur": 4000}


def test_an_answered_error_is_replayed_for_its_key(client: stripe.StripeClient) -> None:
    account = enabled_account(client)
    params = {"amount": 700, "currency": "eur", "destination": account}
    with pytest.raises(stripe.InvalidRequestError) as poor:
        client.v1.transfers.create(params, options={"idempotency_key": "k"})
    assert poor.value.code == "balance_insufficient"
    charge(client, 2000)
    with pytest.raises(stripe.InvalidRequestError) as replayed:
        client.v1.transfers.create(params, options={"idempotency_key": "k"})
    assert replayed.value.code == "balance_insufficient"
    assert client.v1.transfers.create(params, options={"idempotency_key": "k2"}).amount == 700

    # A request whose parameters failed validation is not saved: fixed, the key is new.
    with pytest.raises(stripe.InvalidRequestError) as invalid:
        client.v1.transfers.create({**params, "amount": "7x"}, options={"idempotency_key": "v"})
    assert invalid.value.code == "parameter_invalid_integer"
    fixed = client.v1.transfers.create(params, options={"idempotency_key": "v"})
    assert fixed.amount == 700
    assert len(client.v1.transfers.list({"destination": account}).data) == 2


def test_reversals_partial_then_the_rest_and_never_more(client: stripe.StripeClient) -> None:
    charge(client, 5000)
    account = enabled_account(client)
    transfer = client.v1.transfers.create(
        {"amount": 3000, "currency": "eur", "destination": account}
    )
    part = client.v1.transfers.reversals.create(
        transfer.id,
        {"amount": 1000, "metadata": {"refund": "r1"}},
        options={"idempotency_key": "r1"},
    )
    replay = client.v1.transfers.reversals.create(
        transfer.id,
        {"amount": 1000, "metadata": {"refund": "r1"}},
        options={"idempotency_key": "r1"},
    )
    assert (part.object, part.amount, part.transfer, replay.id) == (
        "transfer_reversal",
        1000,
        transfer.id,
        part.id,
    )
    after = client.v1.transfers.retrieve(transfer.id)
    assert (after.amount_reversed, after.reversed) == (1000, False)

    with pytest.raises(stripe.InvalidRequestError) as too_much:
        client.v1.transfers.reversals.create(transfer.id, {"amount": 2001})
    assert (too_much.value.http_status, too_much.value.param) == (400, "amount")

    rest = client.v1.transfers.reversals.create(transfer.id)
    assert rest.amount == 2000
    assert client.v1.transfers.retrieve(transfer.id).reversed is True
    with pytest.raises(stripe.InvalidRequestError):
        client.v1.transfers.reversals.create(transfer.id, {"amount": 1})
    listed = client.v1.transfers.reversals.list(transfer.id).data
    assert sorted(r.amount for r in listed) == [1000, 2000]
    assert available(client, account) == {"eur": 0}


def test_balances_add_up(client: stripe.StripeClient) -> None:
    intent = charge(client, 5000, transfer_group="order_42")
    assert intent.transfer_group == "order_42"
    assert intent.latest_charge.transfer_group == "order_42"
    client.v1.refunds.create({"payment_intent": intent.id, "amount": 500})
    merchant, creator = enabled_account(client), enabled_account(client)
    to_merchant = client.v1.transfers.create(
        {
            "amount": 3000,
            "currency": "eur",
            "destination": merchant,
            "transfer_group": "order_42",
            "source_transaction": intent.latest_charge.id,
        }
    )
    client.v1.transfers.create({"amount": 1000, "currency": "eur", "destination": creator})
    client.v1.transfers.reversals.create(to_merchant.id, {"amount": 400})

    assert available(client) == {"eur": 5000 - 500 - 3000 - 1000 + 400}
    assert available(client, merchant) == {"eur": 2600}
    assert available(client, creator) == {"eur": 1000}
    grouped = client.v1.transfers.list({"transfer_group": "order_42"}).data
    assert [t.id for t in grouped] == [to_merchant.id]

    with pytest.raises(stripe.InvalidRequestError) as short:
        client.v1.transfers.create({"amount": 901, "currency": "eur", "destination": creator})
    assert (short.value.http_status, short.value.code) == (400, "balance_insufficient")
    client.v1.transfers.create({"amount": 900, "currency": "eur", "destination": creator})
    assert available(client) == {"eur": 0}

    with pytest.raises(stripe.PermissionError):
        client.v1.balance.retrieve(options={"stripe_account": "acct_nobody"})


@pytest.mark.parametrize(
    ("params", "code", "param"),
    [
        ({"amount": "abc", "currency": "eur"}, "parameter_invalid_integer", "amount"),
        ({"amount": 0, "currency": "eur"}, "parameter_invalid_integer", "amount"),
        ({"amount": 10**20, "currency": "eur"}, "parameter_invalid_integer", "amount"),
        ({"amount": 100}, "parameter_missing", "currency"),
        ({"amount": 100, "currency": "eur", "surprise": "1"}, "parameter_unknown", "surprise"),
        (
            {"amount": 100, "currency": "eur", "source_transaction": "ch_nope"},
            "resource_missing",
            "source_transaction",
        ),
    ],
)
def test_bad_transfer_parameters(
    client: stripe.StripeClient, params: dict[str, Any], code: str, param: str
) -> None:
    charge(client, 1000)
    account = enabled_account(client)
    with pytest.raises(stripe.InvalidRequestError) as error:
        client.v1.transfers.create({"destination": account, **params})
    assert (error.value.http_status, error.value.code, error.value.param) == (400, code, param)
    assert client.v1.transfers.list().data == []


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
