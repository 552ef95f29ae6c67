"""A refund after a merchant part settled (ADR 38): the platform's fee is given back as
the fee on what was left less the fee on what is left, the commission taken back is
exactly what video's reversing credits of that refund took (asked of the real video
service once it has applied the refund), and the merchant's transfer is reversed by the
rest. So checkout's `creator_commission_payable` and video's creator balances agree to
the minor unit (the ledger audit matches), and the order's books balance. Real
PostgreSQL, the real video and catalog services, the real SDK against the emulator."""

from __future__ import annotations

import threading
import uuid
from typing import Any

import pytest
from django.db import connections, transaction

from clipcart_shared.money import allocate
from clipcart_shared.outbox.models import OutboxEvent
from clipcart_shared.outbox.services import events_publish
from clipcart_tools.localstripe import stripe_client
from clipcart_tools.testing.services import free_port
from orders.models import Order
from orders.services import order_refund
from orders.services.ledger import refund_post
from orders.services.refund_clawbacks import clawbacks_due, refund_commission_take_back
from orders.services.transfers import merchant_transfers_sweep
from orders.services.units import unit_share
from payments.models import (
    LedgerAccount,
    LedgerEntry,
    LedgerPosting,
    MerchantTransfer,
    SettledPartRefund,
    TransferReversal,
)
from tests.after_payment import deliver
from tests.conftest import ADDRESS, STRIPE_KEY, intent_object, stripe_event, webhook_post
from tests.money.conftest import (
    COMMISSION_BPS,
    SETTLED,
    _assert_balanced,
    _balance,
    _commission,
    _enable,
    _fee,
    _sold_and_settled,
    _video_hears_checkout,
    _video_hook,
)
from tests.money.test_creator_balances_audit import _freeze, _gap
from tests.test_webhooks_and_orders import _pay_on_the_emulator

pytestmark = pytest.mark.django_db


def _post(client, url: str, body: dict[str, Any], **headers: str) -> dict[str, Any]:
    response = client.post(url, body, format="json", **headers)
    assert response.status_code in (200, 201), response.json()
    return dict(response.json())


def _discounted_two_line_order(client_for, api_client, emulator, catalog, video, first) -> Order:
    """Three units of the first shop's product and one of another product of the same
    shop, each tapped from its own video (10 %), with a 10 % code of the shop: one
    merchant part of two discounted lines, with shipping."""
    merchant = first["merchant_id"]
    other = next(
        variant
        for variant in catalog.variants()
        if variant["merchant_id"] == merchant
        and variant["product_id"] != first["product_id"]
        and variant["price"]["currency"] == first["price"]["currency"]
    )
    catalog.set_stocks([first["id"], other["id"]], 100_000)
    client = client_for(f"claw-{uuid.uuid4().hex[:8]}")
    for variant, quantity in ((first, 3), (other, 1)):
        _video_hook(
            video,
            "product_commission_rate_set",
            product_id=variant["product_id"],
            merchant_id=merchant,
            rate_bps=COMMISSION_BPS,
        )
        source = video.tag(variant["product_id"])
        line = {"variant_id": variant["id"], "quantity": quantity, "source": source}
        _post(client, "/api/v1/cart/lines/", line)
    code = catalog.hook(
        "promotion_create",
        merchant_id=merchant,
        code=f"T{uuid.uuid4().hex[:10].upper()}",
        kind="percent",
        percent_off=10,
    )["code"]
    _post(client, "/api/v1/cart/discount/", {"code": code})
    body = {"email": "ada@example.com", "shipping_address": ADDRESS}
    price = first["price"]["amount"]
    old_price, old_fee = catalog.hook(
        "variant_price_and_shipping_set", variant_id=first["id"], price=price, shipping=490
    )
    try:
        answer = _post(client, "/api/v1/checkouts/", body, HTTP_IDEMPOTENCY_KEY=str(uuid.uuid4()))
    finally:  # the catalog is the session's
        catalog.hook(
            "variant_price_and_shipping_set",
            variant_id=first["id"],
            price=old_price,
            shipping=old_fee,
        )
    order = Order.objects.get(id=answer["order"]["id"])
    _pay_on_the_emulator(emulator, order)
    webhook_post(api_client, stripe_event("payment_intent.succeeded", intent_object(order)))
    order.refresh_from_db()
    assert order.status == "paid"
    return order


def _video_hears_delivery(video, order: Order) -> None:
    """Video hearing of the delivery of every line, with the end of its window."""
    lines = list(order.lines.order_by("id"))
    events_publish(
        events=[
            {
                "type": "order.delivered",
                "subject": str(order.id),
                "data": {
                    "order_id": str(order.id),
                    "shipment_id": str(uuid.uuid4()),
                    "merchant_id": str(lines[0].merchant_id),
                    "lines": [
                        {"line_id": str(line.id), "quantity": line.quantity} for line in lines
                    ],
                    "at": lines[0].delivered_at.isoformat(),
                    "returns_close_at": max(line.returns_close_at for line in lines).isoformat(),
                },
            }
        ]
    )
    envelopes = [e.envelope() for e in OutboxEvent.objects.filter(type="order.delivered")]
    _video_hook(video, "checkout_events_consume", envelopes=envelopes)


def _total(order: Order, account: str, *kinds: str) -> int:
    postings = LedgerPosting.objects.filter(entry__order_id=order.id, account=account)
    if kinds:
        postings = postings.filter(entry__kind__in=kinds)
    return sum(postings.values_list("amount", flat=True))


def _books(order: Order) -> dict[str, int]:
    """The order's side of the ledger: captured, refunded, and what it owes merchants (all
    they are owed, transferred or not: transfers and reversals left out), creators and
    the platform."""
    owed = _total(order, LedgerAccount.MERCHANT_PENDING) + _total(
        order,
        LedgerAccount.MERCHANT_PAYABLE,
        "order_paid",
        "refund",
        "settlement",
        "commission_clawback",
    )
    return {
        "captured": _total(order, LedgerAccount.PLATFORM_CASH, "order_paid"),
        "refunded": -_total(order, LedgerAccount.PLATFORM_CASH, "refund"),
        "merchant_payables": -owed,
        "creator_payables": -_total(order, LedgerAccount.CREATOR_COMMISSION_PAYABLE),
        "platform_fees": -_total(order, LedgerAccount.PLATFORM_FEE_REVENUE),
    }


def _assert_books(order: Order, **expected: int) -> None:
    books = _books(order)
    assert books == expected
    assert books["captured"] - books["refunded"] == (
        books["merchant_payables"] + books["creator_payables"] + books["platform_fees"]
    )


def _reversed_at_stripe(emulator: str, transfer: MerchantTransfer) -> int:
    transfer.refresh_from_db()
    carried = stripe_client(emulator, STRIPE_KEY).v1.transfers.retrieve(transfer.stripe_transfer_id)
    return int(carried.amount_reversed)


def test_refunds_after_settlement_take_back_videos_clawback_and_the_audit_matches(
    settings, client_for, api_client, stripe_emulator, catalog, video, two_shops
):
    settings.PLATFORM_FEE_BPS = 500
    settings.CREATOR_BALANCE_AUDIT_GRACE_SECONDS = 0
    first, _ = two_shops
    merchant, currency = first["merchant_id"], first["price"]["currency"].upper()
    _freeze(video)  # what earlier tests left settled in video
    leftover = _gap(merchant, currency)
    order = _discounted_two_line_order(
        client_for, api_client, stripe_emulator, catalog, video, first
    )
    tapped, single = sorted(order.lines.all(), key=lambda line: -line.quantity)
    assert tapped.quantity == 3 and tapped.discount_amount > 0 and order.shipping_amount > 0
    _enable(api_client, merchant)
    deliver(order, **SETTLED)
    _video_hears_checkout(video)
    _video_hears_delivery(video, order)
    assert merchant_transfers_sweep()["sent"] == 1
    _freeze(video)
    transfer = MerchantTransfer.objects.get(order_id=order.id)
    gross, fee = order.total_amount, _fee(order.total_amount, 500)
    commission = _commission(tapped.line_total_amount) + _commission(single.line_total_amount)
    assert (transfer.gross_amount, transfer.fee_amount) == (gross, fee)
    assert transfer.commission_amount == commission
    assert transfer.amount == gross - fee - commission and transfer.status == "sent"
    assert _gap(merchant, currency) == leftover

    # One unit of the discounted line back.
    share = unit_share(tapped, 1)
    order_refund(order=order, amount=share, created_by="admin:test", line_ids=[tapped.id])
    _video_hears_checkout(video)
    assert merchant_transfers_sweep()["reversed"] == 1
    _freeze(video)

    fee_back = fee - _fee(gross - share, 500)
    clawed = _commission(tapped.line_total_amount) - _commission(tapped.line_total_amount - share)
    first_reversal = share - fee_back - clawed
    # Today's rule would have split the share in proportion to the part's settlement.
    net = gross - fee - commission
    assert allocate(share, [net, fee, commission])[2] != clawed
    assert _reversed_at_stripe(stripe_emulator, transfer) == first_reversal
    assert _gap(merchant, currency) == leftover  # the two records still agree
    _assert_books(
        order,
        captured=gross,
        refunded=share,
        merchant_payables=transfer.amount - first_reversal,
        creator_payables=commission - clawed,
        platform_fees=fee - fee_back,
    )

    # Then everything left, shipping included.
    order_refund(order=order, amount=gross - share, created_by="admin:test")
    _video_hears_checkout(video)
    assert merchant_transfers_sweep()["reversed"] == 1
    _freeze(video)

    rest_clawed = _commission(tapped.line_total_amount - share) + _commission(
        single.line_total_amount
    )
    second_reversal = (gross - share) - (fee - fee_back) - rest_clawed
    assert first_reversal + second_reversal == transfer.amount
    assert _reversed_at_stripe(stripe_emulator, transfer) == transfer.amount
    assert _gap(merchant, currency) == leftover
    _assert_books(
        order,
        captured=gross,
        refunded=gross,
        merchant_payables=0,
        creator_payables=0,
        platform_fees=0,
    )
    assert _balance(LedgerAccount.MERCHANT_PAYABLE, uuid.UUID(merchant), order_id=order.id) == 0
    assert _balance(LedgerAccount.PLATFORM_CASH, order_id=order.id) == 0
    _assert_balanced()


@pytest.mark.concurrency
@pytest.mark.django_db(transaction=True)
def test_a_duplicate_refund_event_and_concurrent_sweeps_reverse_once(
    settings, client_for, api_client, stripe_emulator, video, two_shops, sourced
):
    settings.PLATFORM_FEE_BPS = 500
    first, _ = two_shops
    order = _sold_and_settled(
        client_for, api_client, stripe_emulator, video, first, sourced, quantity=2
    )
    transfer = MerchantTransfer.objects.get(order_id=order.id)
    line = order.lines.get()
    order_refund(order=order, amount=777, created_by="admin:test", line_ids=[line.id])
    refund = order.refunds.get()
    with transaction.atomic():  # the refund's event again
        refund_post(Order.objects.get(id=order.id), refund)
    _video_hears_checkout(video)
    _video_hears_checkout(video)  # and video hearing it twice
    barrier = threading.Barrier(3)
    outcomes: list[Any] = []

    def sweep() -> None:
        try:
            barrier.wait()
            outcomes.append(merchant_transfers_sweep())
        except Exception as error:
            outcomes.append(repr(error))
        finally:
            connections.close_all()

    threads = [threading.Thread(target=sweep) for _ in range(3)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)

    expected = (
        777
        - (_fee(transfer.gross_amount, 500) - _fee(transfer.gross_amount - 777, 500))
        - (_commission(line.line_total_amount) - _commission(line.line_total_amount - 777))
    )
    assert sum(outcome["reversed"] for outcome in outcomes) == 1, outcomes
    assert TransferReversal.objects.get(transfer=transfer).amount == expected
    assert _reversed_at_stripe(stripe_emulator, transfer) == expected
    assert LedgerEntry.objects.filter(kind="commission_clawback", order_id=order.id).count() == 1
    assert LedgerEntry.objects.filter(kind="refund", order_id=order.id).count() == 1
    assert merchant_transfers_sweep() == {"settled": 0, "sent": 0, "reversed": 0}
    assert _balance(LedgerAccount.MERCHANT_PAYABLE, line.merchant_id) == 0
    _assert_balanced()


def test_video_unreachable_leaves_the_refund_waiting_and_backed_off_then_it_is_taken_once(
    settings, client_for, api_client, stripe_emulator, video, two_shops, sourced
):
    first, _ = two_shops
    order = _sold_and_settled(
        client_for, api_client, stripe_emulator, video, first, sourced, quantity=1
    )
    order_refund(order=order, amount=500, created_by="admin:test", line_ids=None)
    _video_hears_checkout(video)
    [row] = SettledPartRefund.objects.all()
    reachable, settings.VIDEO_URL = settings.VIDEO_URL, f"http://127.0.0.1:{free_port()}"

    assert merchant_transfers_sweep()["reversed"] == 0
    row.refresh_from_db()
    assert row.commission_amount is None and not TransferReversal.objects.exists()
    assert clawbacks_due() == []  # backed off, not asked again at once
    _assert_balanced()

    settings.VIDEO_URL = reachable
    assert refund_commission_take_back(row_id=row.id) is True
    assert refund_commission_take_back(row_id=row.id) is False
    row.refresh_from_db()
    assert row.commission_amount is not None
    assert TransferReversal.objects.get().amount == 500 - row.fee_amount - row.commission_amount
    _assert_balanced()
