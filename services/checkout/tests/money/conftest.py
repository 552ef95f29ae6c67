"""The money-out tests' shops, orders and helpers (issue 16, ADR 30 and 33): real
PostgreSQL, the real video service, the real SDK against the emulator."""

from __future__ import annotations

import json
import uuid
from datetime import timedelta
from typing import Any

import pytest

from clipcart_shared.money import allocate
from clipcart_shared.outbox.models import OutboxEvent
from clipcart_tools.localstripe import complete_account_link, flush, stripe_client
from orders.models import Order
from orders.services.transfers import merchant_transfers_sweep
from payments.ledger import account_balance, ledger_audit
from payments.models import MerchantPayoutAccount, MerchantTransfer
from payments.payouts import merchant_payout_account_onboard
from tests.after_payment import deliver
from tests.conftest import ADDRESS, STRIPE_KEY, intent_object, stripe_event, webhook_post
from tests.test_webhooks_and_orders import _pay_on_the_emulator

VIDEO_EVENT_TYPES = ["order.paid", "order.refunded"]
COMMISSION_BPS = 1_000
SETTLED = {"delivered_ago": timedelta(days=31), "window": timedelta(days=30)}


@pytest.fixture(autouse=True)
def _emulator_emptied(stripe_emulator):
    """The demo merchants' accounts (and their idempotency keys, which name the merchant)
    made by other tests sharing the session's emulator are not met here, and those made
    here are not left to them."""
    flush(stripe_emulator)
    yield
    flush(stripe_emulator)


@pytest.fixture
def two_shops(catalog, _variants) -> tuple[dict[str, Any], dict[str, Any]]:
    """A variant of the first demo merchant and one of another merchant in its currency."""
    first = _variants[0]
    others = [
        variant
        for variant in catalog.variants()
        if variant["merchant_id"] != first["merchant_id"]
        and variant["price"]["currency"] == first["price"]["currency"]
    ]
    catalog.set_stocks([others[0]["id"]], 100_000)
    return first, others[0]


def _checkout(
    client_for, api_client, emulator: str, lines: list[dict[str, Any]], *, buyer: str = "buyer"
) -> Order:
    response = client_for(buyer).post(
        "/api/v1/checkouts/",
        {"email": "ada@example.com", "shipping_address": ADDRESS, "lines": lines},
        format="json",
        HTTP_IDEMPOTENCY_KEY=str(uuid.uuid4()),
    )
    assert response.status_code == 201, response.json()
    order = Order.objects.get(id=response.json()["order"]["id"])
    _pay_on_the_emulator(emulator, order)
    webhook_post(api_client, stripe_event("payment_intent.succeeded", intent_object(order)))
    order.refresh_from_db()
    assert order.status == "paid"
    return order


def _video_hook(video, name: str, **arguments: Any) -> Any:
    out = video.service.manage("attribution_testhook", name, json.dumps(arguments, default=str))
    return json.loads(out.strip().splitlines()[-1])


def _video_hears_checkout(video) -> None:
    """Video's worker consuming checkout's events (each once), as the broker would."""
    envelopes = [
        event.envelope()
        for event in OutboxEvent.objects.filter(type__in=VIDEO_EVENT_TYPES).order_by("id")
    ]
    _video_hook(video, "checkout_events_consume", envelopes=envelopes)


def _enable(api_client, merchant_id: str) -> str:
    """The merchant's payout account set up and onboarded; its `account.updated` applied."""
    url = merchant_payout_account_onboard(
        merchant_id=uuid.UUID(merchant_id),
        created_by="admin:test",
        refresh_url="https://shop.example/refresh",
        return_url="https://shop.example/return",
    )
    account = complete_account_link(url)["account"]
    event = stripe_event("account.updated", account)
    event["account"] = account["id"]
    webhook_post(api_client, event)
    assert MerchantPayoutAccount.objects.get(merchant_id=merchant_id).status == "enabled"
    return str(account["id"])


def _sold_and_settled(
    client_for, api_client, emulator: str, video, variant: dict[str, Any], sourced, quantity: int
) -> Order:
    """A paid order of `quantity` of the sourced `variant`, its merchant enabled, the
    order delivered past its window, heard by video, then swept (settled and sent)."""
    order = _checkout(
        client_for,
        api_client,
        emulator,
        [{"variant_id": variant["id"], "quantity": quantity, "source": sourced}],
    )
    _enable(api_client, variant["merchant_id"])
    deliver(order, **SETTLED)
    _video_hears_checkout(video)
    merchant_transfers_sweep()
    return order


def _stripe_transfers(emulator: str, order: Order) -> list[dict[str, Any]]:
    """The Stripe transfers that carried the order's parts (each a merchant's batch,
    ADR 38: named by its batch id in the metadata)."""
    batches = {
        str(batch)
        for batch in MerchantTransfer.objects.filter(order_id=order.id).values_list(
            "batch_transfer_id", flat=True
        )
        if batch
    }
    found = stripe_client(emulator, STRIPE_KEY).v1.transfers.list({"limit": 100})
    listed = [transfer.to_dict() for transfer in found.data]
    return [t for t in listed if (t.get("metadata") or {}).get("batch_id") in batches]


def _balance(account: str, merchant_id: Any = None, **filters: Any) -> int:
    return sum(account_balance(account=account, merchant_id=merchant_id, **filters).values())


def _assert_balanced() -> None:
    audit = ledger_audit()
    assert audit.is_balanced, audit
    assert set(audit.totals.values()) <= {0}


def _shares(order: Order) -> dict[str, int]:
    """Each merchant's lines plus its share of shipping (in proportion to lines)."""
    totals: dict[str, int] = {}
    for line in order.lines.all():
        merchant = str(line.merchant_id)
        totals[merchant] = totals.get(merchant, 0) + line.line_total_amount
    merchants = sorted(totals)
    shipping = allocate(order.shipping_amount, [totals[m] for m in merchants])
    return {m: totals[m] + share for m, share in zip(merchants, shipping, strict=True)}


def _fee(amount: int, bps: int) -> int:
    return (amount * bps + 5_000) // 10_000


def _commission(amount: int) -> int:
    return (2 * amount * COMMISSION_BPS + 10_000) // 20_000


@pytest.fixture
def sourced(video, two_shops):
    """The first shop's product tagged in a published video, at 10 % commission."""
    first, _ = two_shops
    _video_hook(
        video,
        "product_commission_rate_set",
        product_id=first["product_id"],
        merchant_id=first["merchant_id"],
        rate_bps=COMMISSION_BPS,
    )
    return video.tag(first["product_id"])
