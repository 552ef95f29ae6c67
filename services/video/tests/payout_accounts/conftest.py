"""Creators' payout accounts (issue 16, Accounts): the emulator, its webhook receiver and the
helpers shared by the account API and Connect webhook tests."""

from __future__ import annotations

import hashlib
import hmac
import json
import time
import uuid
from collections.abc import Iterator
from typing import Any

import pytest

from clipcart_tools.localstripe import (
    localstripe_server,
    register_webhook,
)
from clipcart_tools.testing.services import free_port
from clipcart_tools.testing.webhooks import WebhookReceiver
from payouts.models import CreatorPayoutAccount

URL = "/api/v1/creators/me/payout-account/"
WEBHOOK = "/api/v1/creators/payout-accounts/stripe-webhook/"
SECRET = "whsec_connect_test"
STRIPE_KEY = "sk_test_localstripe"


@pytest.fixture(scope="module")
def _emulator() -> Iterator[tuple[str, WebhookReceiver]]:
    # Stands in for video's endpoint: the tests post each delivery to video as Stripe would.
    receiver = WebhookReceiver()
    with localstripe_server() as base_url:
        register_webhook(base_url, "video-connect", receiver.url, SECRET, ["account.updated"])
        yield base_url, receiver
    receiver.close()


@pytest.fixture
def stripe_emulator(_emulator: tuple[str, WebhookReceiver], settings) -> str:
    settings.STRIPE_API_BASE = _emulator[0]
    settings.STRIPE_SECRET_KEY = STRIPE_KEY
    settings.VIDEO_STRIPE_WEBHOOK_SECRETS = [SECRET]
    _emulator[1].drain()
    return _emulator[0]


@pytest.fixture
def receiver(_emulator: tuple[str, WebhookReceiver], stripe_emulator: str) -> WebhookReceiver:
    return _emulator[1]


@pytest.fixture
def stripe_down(settings) -> None:
    settings.STRIPE_API_BASE = f"http://127.0.0.1:{free_port()}"
    settings.STRIPE_SECRET_KEY = STRIPE_KEY
    settings.VIDEO_STRIPE_WEBHOOK_SECRETS = [SECRET]


def _signed(body: Any, *, secret: str = SECRET, age: int = 0) -> tuple[bytes, str]:
    payload = body if isinstance(body, bytes) else json.dumps(body).encode()
    timestamp = int(time.time()) - age
    digest = hmac.new(secret.encode(), f"{timestamp}.".encode() + payload, hashlib.sha256)
    return payload, f"t={timestamp},v1={digest.hexdigest()}"


def _deliver(api_client, payload: bytes, signature: str):
    return api_client.generic(
        "POST", WEBHOOK, payload, content_type="application/json", HTTP_STRIPE_SIGNATURE=signature
    )


def _account_event(account: dict[str, Any], *, created: int | None = None) -> dict[str, Any]:
    return {
        "id": f"evt_{uuid.uuid4().hex}",
        "object": "event",
        "type": "account.updated",
        "account": account["id"],
        "created": created if created is not None else int(time.time()),
        "data": {"object": account},
    }


def _onboarded(client) -> CreatorPayoutAccount:
    """POST: the creator's account made at the emulator; returns its row."""
    response = client.post(URL)
    assert response.status_code == 200, response.json()
    return CreatorPayoutAccount.objects.get()


def _account(**fields: Any) -> dict[str, Any]:
    base = {
        "charges_enabled": False,
        "payouts_enabled": False,
        "details_submitted": False,
        "requirements": {"disabled_reason": "requirements.past_due"},
    }
    return {**base, **fields}
