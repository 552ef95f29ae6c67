"""`GET /internal/v1/creator-balances/` (ADR 38): what video owes creators per merchant
and currency as of `before` — commission and clawbacks, less the payouts checkout's
ledger recorded — for checkout's audit against its ledger; service credential only."""

from __future__ import annotations

from datetime import timedelta

import pytest
from rest_framework.test import APIClient

from clipcart_shared.auth import service_token_mint, user_token_mint
from payouts.batches import creator_payouts_run
from payouts.models import BalanceEntry, CreatorPayout
from tests.creator_payouts.conftest import NOW, T1, T2, T3, enabled_account, settled_sale

pytestmark = pytest.mark.django_db

URL = "/internal/v1/creator-balances/"
LATER = (T3 + timedelta(days=1)).isoformat()


@pytest.fixture
def service() -> APIClient:
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Service {service_token_mint(service='checkout')}")
    return client


def test_balances_count_commission_and_only_the_payouts_checkout_recorded(
    service, stripe_emulator, tag
):
    enabled_account(tag.video.creator, stripe_emulator)
    settled_sale(tag, 4000)
    settled_sale(tag, 6000)
    creator_payouts_run(now=T1)
    merchant = str(BalanceEntry.objects.values_list("merchant_id", flat=True).first())
    owed = [{"merchant_id": merchant, "currency": "EUR", "amount": 1000}]

    assert service.get(URL, {"before": LATER}).json()["balances"] == owed
    assert service.get(URL, {"before": NOW.isoformat()}).json()["balances"] == []

    creator_payouts_run(now=T2)  # paid at Stripe; checkout (down here) has not recorded it
    payout = CreatorPayout.objects.get()
    assert payout.status == "sent" and payout.ledger_recorded_at is None
    assert service.get(URL, {"before": LATER}).json()["balances"] == owed

    CreatorPayout.objects.filter(id=payout.id).update(ledger_recorded_at=T2)
    assert service.get(URL, {"before": LATER}).json()["balances"] == [
        {"merchant_id": merchant, "currency": "EUR", "amount": 0}
    ]
    assert service.get(URL, {"before": T2.isoformat()}).json()["balances"] == owed


@pytest.mark.parametrize("query", [{}, {"before": "yesterday"}, {"before": ""}])
def test_a_bad_before_is_400(service, query):
    response = service.get(URL, query)

    assert response.status_code == 400
    assert response["Content-Type"].startswith("application/problem+json")


def test_only_other_services_may_ask():
    anonymous = APIClient()
    user = APIClient()
    user.credentials(HTTP_AUTHORIZATION=f"Bearer {user_token_mint(user_id='ada')}")

    assert anonymous.get(URL, {"before": LATER}).status_code == 401
    assert user.get(URL, {"before": LATER}).status_code == 403
