"""The emulator's Connect tests' runner (a module's own), its webhook receiver, and the
accounts, charges and balances they share."""

from __future__ import annotations

import urllib.request
from collections.abc import Iterator
from typing import Any

import pytest
import stripe

from clipcart_tools.localstripe import (
    complete_account_link,
    flush,
    localstripe_server,
    register_webhook,
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
