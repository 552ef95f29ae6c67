"""Creators' payouts in batches (issue 16, ADR 33): the emulator (its platform balance
funded), a creator's tagged video, settled sales fed by checkout's events through the real
handlers, and the helpers the batch tests share."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime, timedelta
from typing import Any

import pytest
from django.utils import timezone

from clipcart_shared.outbox.services import event_consume
from clipcart_tools.localstripe import (
    complete_account_link,
    localstripe_server,
    stripe_client,
)
from clipcart_tools.testing.services import free_port
from payouts.batches import batch_of
from payouts.models import CreatorPayoutAccount
from payouts.selectors import creator_payouts_summary
from payouts.services import creator_payout_account_onboard
from tests.factories import (
    CreatorFactory,
    ProductTagFactory,
    VideoFactory,
    engagement_event,
    order_delivered,
    order_paid,
    order_refunded,
    paid_line,
)

STRIPE_KEY = "sk_test_localstripe"
WEEK = timedelta(days=7)
NOW = timezone.now()
# A batch well after the sales below have settled, and the ones after it.
T1 = batch_of(NOW) + 2 * WEEK + timedelta(hours=1)
T2 = T1 + WEEK
T3 = T2 + WEEK


@pytest.fixture(scope="module")
def _emulator() -> Iterator[str]:
    with localstripe_server() as base_url:
        # The platform's balance, which payouts are paid from (no source_transaction).
        stripe_client(base_url, STRIPE_KEY).v1.payment_intents.create(
            {
                "amount": 10_000_000,
                "currency": "eur",
                "payment_method": "pm_card_visa",
                "confirm": True,
            }
        )
        yield base_url


@pytest.fixture
def stripe_emulator(_emulator: str, settings) -> str:
    settings.STRIPE_API_BASE = _emulator
    settings.STRIPE_SECRET_KEY = STRIPE_KEY
    settings.CREATOR_PAYOUT_PERIOD_SECONDS = int(WEEK.total_seconds())
    settings.CREATOR_PAYOUT_MINIMUM_AMOUNT = 500
    # Recording in checkout's ledger has its own test; here checkout is not there.
    settings.CHECKOUT_URL = f"http://127.0.0.1:{free_port()}"
    return _emulator


@pytest.fixture
def tag():
    """Ada's video (10 % commission), which the buyer tapped an hour ago."""
    tag = ProductTagFactory(
        video=VideoFactory(creator=CreatorFactory(user_id="ada", commission_rate_bps=1000))
    )
    engagement_event("buyer", tag.video, "tag_tap", NOW - timedelta(hours=1))
    return tag


def enabled_account(creator, base_url: str) -> CreatorPayoutAccount:
    """The creator's Express account at the emulator, onboarded (transfers active), its
    row `enabled` (as the signed `account.updated` sets it: tested in tests/payout_accounts)."""
    complete_account_link(creator_payout_account_onboard(creator=creator))
    CreatorPayoutAccount.objects.filter(creator=creator).update(status="enabled")
    return CreatorPayoutAccount.objects.get(creator=creator)


def settled_sale(tag, amount: int) -> tuple[dict[str, Any], str]:
    """A sale of `amount` bought from the tag, delivered, its window closed a day ago."""
    line = paid_line(tag, amount)
    paid = order_paid("buyer", [line], NOW - timedelta(minutes=5))
    assert event_consume(envelope=paid) is True
    delivered = order_delivered(
        paid, {line["line_id"]: 1}, NOW - timedelta(minutes=4), NOW - timedelta(days=1)
    )
    assert event_consume(envelope=delivered) is True
    return paid, line["line_id"]


def refund(paid: dict[str, Any], line_id: str, amount: int) -> None:
    assert event_consume(envelope=order_refunded(paid, {line_id: amount}, timezone.now())) is True


def transfers_to(base_url: str, account: CreatorPayoutAccount) -> list[tuple[int, str]]:
    listed = stripe_client(base_url, STRIPE_KEY).v1.transfers.list(
        {"destination": account.stripe_account_id, "limit": 100}
    )
    return sorted((transfer.amount, transfer.currency) for transfer in listed.data)


def summary(creator, at: datetime) -> dict[str, Any]:
    return creator_payouts_summary(creator=creator, now=at)
