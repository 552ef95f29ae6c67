"""The creators' two records compared (ADR 38): checkout's ledger commission owed to
creators per merchant and currency against the real video service's creator balances
(its internal API), on the periodic audit and the platform staff's admin home.

Video's database is the session's: other tests' settled lines stay in it (their
checkout rows are rolled back), so each test reads what video says before its own sale
and checks what its sale and its mismatch change."""

from __future__ import annotations

import json
import logging
import uuid

import pytest
from rest_framework.test import APIClient

from clipcart_shared.auth import service_token_mint
from clipcart_shared.outbox.models import OutboxEvent
from clipcart_shared.outbox.services import events_publish
from orders.models import Order
from orders.services.transfers import merchant_transfers_sweep
from orders.tasks import ledger_audit
from payments.creator_audit import creator_balances_audit
from payments.models import LedgerAccount
from tests.after_payment import deliver
from tests.money.conftest import (
    SETTLED,
    _balance,
    _checkout,
    _commission,
    _enable,
    _video_hears_checkout,
    _video_hook,
)

pytestmark = pytest.mark.django_db


def _freeze(video) -> None:
    """Video's payout run freezing what settled (as `payouts.creator_payouts_run` does)."""
    out = video.service.manage("payouts_testhook", "settled_commission_freeze", "{}")
    json.loads(out.strip().splitlines()[-1])


def _gap(merchant: str, currency: str) -> int:
    """Video's balance less checkout's, for the merchant (0 when they agree)."""
    audit = creator_balances_audit()
    assert not audit.unavailable, audit
    for row in audit.differences:
        if (row["merchant_id"], row["currency"]) == (merchant, currency):
            return int(row["video"]) - int(row["checkout"])  # type: ignore[call-overload]
    return 0


def _delivered_heard(video, order: Order) -> None:
    """Video hearing of the delivery (`deliver` writes the lines only): the event a
    delivered shipment publishes, with the end of its window, consumed by video."""
    [line] = order.lines.all()
    events_publish(
        events=[
            {
                "type": "order.delivered",
                "subject": str(order.id),
                "data": {
                    "order_id": str(order.id),
                    "shipment_id": str(uuid.uuid4()),
                    "merchant_id": str(line.merchant_id),
                    "lines": [{"line_id": str(line.id), "quantity": line.quantity}],
                    "at": line.delivered_at.isoformat(),
                    "returns_close_at": line.returns_close_at.isoformat(),
                },
            }
        ]
    )
    envelopes = [e.envelope() for e in OutboxEvent.objects.filter(type="order.delivered")]
    _video_hook(video, "checkout_events_consume", envelopes=envelopes)


def _settled_sourced_sale(client_for, api_client, emulator, video, first, sourced) -> Order:
    order = _checkout(
        client_for,
        api_client,
        emulator,
        [{"variant_id": first["id"], "quantity": 2, "source": sourced}],
    )
    _enable(api_client, first["merchant_id"])
    deliver(order, **SETTLED)
    _video_hears_checkout(video)
    _delivered_heard(video, order)
    merchant_transfers_sweep()
    _freeze(video)
    return order


def test_the_ledgers_commission_owed_matches_videos_balance_and_a_real_mismatch_shows(
    settings, client_for, api_client, stripe_emulator, video, two_shops, sourced, caplog
):
    settings.CREATOR_BALANCE_AUDIT_GRACE_SECONDS = 0
    first, _ = two_shops
    merchant = first["merchant_id"]
    _freeze(video)  # what earlier tests left settled in video
    currency = first["price"]["currency"].upper()
    leftover = _gap(merchant, currency)

    order = _settled_sourced_sale(client_for, api_client, stripe_emulator, video, first, sourced)

    commission = _commission(order.lines.get().line_total_amount)
    assert commission > 0
    assert _balance(LedgerAccount.CREATOR_COMMISSION_PAYABLE, uuid.UUID(merchant)) == -commission
    # Both records took the sale's commission: what they differ by did not change.
    assert _gap(merchant, currency) == leftover

    # A real mismatch: checkout's ledger records a creator payout video never made.
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Service {service_token_mint(service='video')}")
    unmatched = {
        "payout_id": str(uuid.uuid4()),
        "creator_id": str(uuid.uuid4()),
        "currency": currency,
        "amount": 123,
        "stripe_transfer_id": "tr_not_from_video",
        "merchants": [{"merchant_id": merchant, "amount": 123}],
    }
    posted = client.post(
        "/internal/v1/creator-payouts/",
        unmatched,
        format="json",
        HTTP_IDEMPOTENCY_KEY=str(uuid.uuid4()),
    )
    assert posted.status_code == 200, posted.json()

    assert _gap(merchant, currency) == leftover + 123
    audit = creator_balances_audit()
    [row] = [d for d in audit.differences if d["merchant_id"] == merchant]
    assert row["checkout"] == _balance_owed(merchant)
    assert not audit.is_matching
    # The periodic audit logs it as an error, and platform staff see it on the home.
    with caplog.at_level(logging.ERROR, logger="payments.creator_audit"):
        assert ledger_audit() is False
    assert any(
        "Creator balances differ" in record.getMessage() and record.merchant_id == merchant
        for record in caplog.records
    )


def _balance_owed(merchant: str) -> int:
    return -_balance(LedgerAccount.CREATOR_COMMISSION_PAYABLE, uuid.UUID(merchant))


def test_within_the_grace_nothing_newer_is_compared(
    settings, client_for, api_client, stripe_emulator, video, two_shops, sourced
):
    settings.CREATOR_BALANCE_AUDIT_GRACE_SECONDS = 3_600
    first, _ = two_shops
    _settled_sourced_sale(client_for, api_client, stripe_emulator, video, first, sourced)

    audit = creator_balances_audit()

    assert all(row["checkout"] == 0 for row in audit.differences)


def test_video_unreachable_is_not_checked_and_not_a_difference(video_down, settings):
    settings.CREATOR_BALANCE_AUDIT_GRACE_SECONDS = 0

    audit = creator_balances_audit()

    assert audit.unavailable and audit.differences == []
    assert not audit.is_matching
