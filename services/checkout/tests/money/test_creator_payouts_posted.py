"""A creator payout that video made is posted to the ledger once
(`POST /internal/v1/creator-payouts/`, ADR 33). Real PostgreSQL, the real SDK against the
emulator."""

from __future__ import annotations

import uuid
from typing import Any

import pytest
from rest_framework.test import APIClient

from clipcart_shared.auth import service_token_mint
from clipcart_tools.localstripe import complete_account_link, stripe_client
from payments.models import (
    LedgerAccount,
    LedgerEntry,
)
from tests.conftest import STRIPE_KEY
from tests.money.conftest import (
    _assert_balanced,
    _balance,
    _commission,
    _sold_and_settled,
)

pytestmark = pytest.mark.django_db

PAYOUTS_URL = "/internal/v1/creator-payouts/"


@pytest.fixture
def video_service() -> APIClient:
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Service {service_token_mint(service='video')}")
    return client


def _payout(shares: list[tuple[str, int]], **fields: Any) -> dict[str, Any]:
    return {
        "payout_id": str(uuid.uuid4()),
        "creator_id": str(uuid.uuid4()),
        "currency": "EUR",
        "amount": sum(amount for _, amount in shares),
        "stripe_transfer_id": "tr_test",
        "merchants": [{"merchant_id": m, "amount": amount} for m, amount in shares],
        **fields,
    }


def _post(client: APIClient, body: dict):
    return client.post(PAYOUTS_URL, body, format="json", HTTP_IDEMPOTENCY_KEY=str(uuid.uuid4()))


def test_a_payout_of_the_settled_commission_empties_what_is_owed_to_creators(
    settings, client_for, api_client, stripe_emulator, video, two_shops, sourced, video_service
):
    first, _ = two_shops
    order = _sold_and_settled(
        client_for, api_client, stripe_emulator, video, first, sourced, quantity=2
    )
    merchant = uuid.UUID(first["merchant_id"])
    commission = _commission(order.lines.get().line_total_amount)
    assert _balance(LedgerAccount.CREATOR_COMMISSION_PAYABLE, merchant) == -commission
    cash = _balance(LedgerAccount.PLATFORM_CASH)
    assert cash == _stripe_available(stripe_emulator, order.currency)
    # What video does: the creator's payout, a transfer from the platform's balance.
    creator = _creator(stripe_emulator)
    paid = stripe_client(stripe_emulator, STRIPE_KEY).v1.transfers.create(
        {"amount": commission, "currency": order.currency.lower(), "destination": creator}
    )
    body = _payout([(first["merchant_id"], commission)], stripe_transfer_id=paid.id)

    response = _post(video_service, body)
    replay = _post(video_service, body)

    assert response.status_code == 200, response.json()
    assert (response.json(), replay.json()) == ({"recorded": True}, {"recorded": False})
    assert LedgerEntry.objects.filter(kind="creator_payout").count() == 1
    assert _balance(LedgerAccount.CREATOR_COMMISSION_PAYABLE, merchant) == 0
    assert _balance(LedgerAccount.PLATFORM_CASH) == cash - commission
    # The books say what Stripe holds for the platform, to the cent.
    assert _balance(LedgerAccount.PLATFORM_CASH) == _stripe_available(
        stripe_emulator, order.currency
    )
    _assert_balanced()


def _stripe_available(emulator: str, currency: str) -> int:
    balance = stripe_client(emulator, STRIPE_KEY).v1.balance.retrieve()
    return sum(row.amount for row in balance.available if row.currency == currency.lower())


def _creator(emulator: str) -> str:
    """A creator's Express account at the emulator, onboarded (as video makes them)."""
    client = stripe_client(emulator, STRIPE_KEY)
    account = client.v1.accounts.create(
        {"type": "express", "capabilities": {"transfers": {"requested": True}}}
    )
    link = client.v1.account_links.create(
        {
            "account": account.id,
            "type": "account_onboarding",
            "refresh_url": "https://app.example/refresh",
            "return_url": "https://app.example/return",
        }
    )
    complete_account_link(link.url)
    return str(account.id)


def test_a_clawback_netted_against_another_merchants_commission_posts_both_shares(
    video_service,
):
    owed, clawed = str(uuid.uuid4()), str(uuid.uuid4())

    response = _post(video_service, _payout([(owed, 900), (clawed, -200)]))

    assert response.status_code == 200, response.json()
    assert _balance(LedgerAccount.CREATOR_COMMISSION_PAYABLE, uuid.UUID(owed)) == 900
    assert _balance(LedgerAccount.CREATOR_COMMISSION_PAYABLE, uuid.UUID(clawed)) == -200
    assert _balance(LedgerAccount.PLATFORM_CASH) == -700
    _assert_balanced()


def test_shares_that_do_not_add_up_are_422_and_nothing_is_posted(video_service):
    body = _payout([(str(uuid.uuid4()), 500)], amount=600)

    response = _post(video_service, body)

    assert response.status_code == 422
    assert response.json()["code"] == "payout_shares_mismatch"
    assert not LedgerEntry.objects.exists()


@pytest.mark.parametrize(
    "change",
    [
        {"amount": 0},
        {"amount": -5},
        {"amount": "500"},
        {"currency": "EURO"},
        {"currency": "eur"},
        {"merchants": []},
        {"payout_id": "x"},
    ],
)
def test_bad_input_is_400_and_nothing_is_posted(video_service, change):
    response = _post(video_service, _payout([(str(uuid.uuid4()), 500)], **change))

    assert response.status_code == 400, response.json()
    assert not LedgerEntry.objects.exists()


def test_a_bad_merchant_share_is_400(video_service):
    body = _payout([(str(uuid.uuid4()), 500)])
    body["merchants"] = [{"merchant_id": "nope", "amount": 500}]

    assert _post(video_service, body).status_code == 400


def test_only_other_services_may_post(api_client, client_for):
    body = _payout([(str(uuid.uuid4()), 500)])

    assert api_client.post(PAYOUTS_URL, body, format="json").status_code == 401
    assert client_for("buyer").post(PAYOUTS_URL, body, format="json").status_code == 403
    assert not LedgerEntry.objects.exists()
