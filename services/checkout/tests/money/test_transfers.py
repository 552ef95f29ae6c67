"""Money out (issue 16, ADR 30): every movement of money is a balanced ledger entry,
posted once; a merchant's settled part of an order becomes a Stripe transfer (to an
enabled account only) of its lines and shipping less refunds, the platform fee and the
creators' commission (asked of the real video service); a refund after the transfer
reverses the merchant's share. Real PostgreSQL, the real SDK against the emulator."""

from __future__ import annotations

import threading
import uuid
from datetime import timedelta
from typing import Any

import pytest
from django.db import IntegrityError, connection, connections, transaction

from orders.models import MerchantPolicy, Order
from orders.services import order_refund
from orders.services.ledger import refund_post
from orders.services.transfers import merchant_transfers_sweep
from payments.ledger import Posting, entry_post
from payments.models import (
    LedgerAccount,
    LedgerEntry,
    LedgerPosting,
    MerchantTransfer,
)
from tests.after_payment import deliver
from tests.conftest import intent_object, stripe_event, webhook_post
from tests.money.conftest import (
    SETTLED,
    _assert_balanced,
    _balance,
    _checkout,
    _commission,
    _enable,
    _fee,
    _shares,
    _sold_and_settled,
    _stripe_transfers,
    _video_hears_checkout,
)

pytestmark = pytest.mark.django_db


def test_a_two_shop_order_settles_into_exact_transfers_and_the_books_balance(
    settings, client_for, api_client, stripe_emulator, video, two_shops, sourced
):
    settings.PLATFORM_FEE_BPS = 500
    first, second = two_shops
    MerchantPolicy.objects.create(merchant_id=second["merchant_id"], platform_fee_bps=250)
    order = _checkout(
        client_for,
        api_client,
        stripe_emulator,
        [
            {"variant_id": first["id"], "quantity": 2, "source": sourced},
            {"variant_id": second["id"], "quantity": 1},
        ],
    )
    accounts = {m["merchant_id"]: _enable(api_client, m["merchant_id"]) for m in two_shops}
    deliver(order, **SETTLED)
    _video_hears_checkout(video)

    done = merchant_transfers_sweep()

    assert done == {"settled": 2, "sent": 2, "reversed": 0}
    shares = _shares(order)
    first_lines = order.lines.get(merchant_id=first["merchant_id"]).line_total_amount
    expected = {
        first["merchant_id"]: shares[first["merchant_id"]]
        - _fee(shares[first["merchant_id"]], 500)
        - _commission(first_lines),
        second["merchant_id"]: shares[second["merchant_id"]]
        - _fee(shares[second["merchant_id"]], 250),
    }
    sent = {t["destination"]: t for t in _stripe_transfers(stripe_emulator, order)}
    assert {m: sent[accounts[m]]["amount"] for m in expected} == expected
    # A batch gathers many orders: no charge of one order is its source (ADR 38).
    assert {t.get("source_transaction") for t in sent.values()} == {None}
    rows = {str(t.merchant_id): t for t in MerchantTransfer.objects.all()}
    assert {sent[accounts[m]]["metadata"]["batch_id"] for m in expected} == {
        str(rows[m].batch_transfer_id) for m in expected
    }
    assert rows[first["merchant_id"]].commission_amount == _commission(first_lines)
    assert rows[second["merchant_id"]].commission_amount == 0
    assert {m: (rows[m].status, rows[m].amount) for m in rows} == {
        m: ("sent", amount) for m, amount in expected.items()
    }
    _assert_balanced()
    fees = _fee(shares[first["merchant_id"]], 500) + _fee(shares[second["merchant_id"]], 250)
    assert _balance(LedgerAccount.PLATFORM_FEE_REVENUE) == -fees
    assert _balance(
        LedgerAccount.CREATOR_COMMISSION_PAYABLE, uuid.UUID(first["merchant_id"])
    ) == -_commission(first_lines)
    assert _balance(LedgerAccount.PLATFORM_CASH, order_id=order.id) == (
        order.total_amount - sum(expected.values())
    )
    for merchant in expected:
        assert _balance(LedgerAccount.MERCHANT_PENDING, uuid.UUID(merchant)) == 0
        assert _balance(LedgerAccount.MERCHANT_PAYABLE, uuid.UUID(merchant)) == 0
    # Nothing more on a second run: one transfer per (order, merchant).
    assert merchant_transfers_sweep() == {"settled": 0, "sent": 0, "reversed": 0}
    assert len(_stripe_transfers(stripe_emulator, order)) == 2


def test_before_its_window_closes_a_part_does_not_settle(
    client_for, api_client, stripe_emulator, video, variants
):
    order = _checkout(
        client_for, api_client, stripe_emulator, [{"variant_id": variants[0]["id"], "quantity": 1}]
    )
    _enable(api_client, variants[0]["merchant_id"])
    deliver(order, delivered_ago=timedelta(days=29), window=timedelta(days=30))
    _video_hears_checkout(video)

    assert merchant_transfers_sweep() == {"settled": 0, "sent": 0, "reversed": 0}
    assert not MerchantTransfer.objects.exists()
    assert _balance(LedgerAccount.MERCHANT_PENDING, order.lines.get().merchant_id) == -(
        order.total_amount
    )


def test_a_merchant_not_enabled_gets_nothing_until_enabled(
    settings, client_for, api_client, stripe_emulator, video, variants
):
    settings.PLATFORM_FEE_BPS = 500
    merchant = variants[0]["merchant_id"]
    order = _checkout(
        client_for, api_client, stripe_emulator, [{"variant_id": variants[0]["id"], "quantity": 3}]
    )
    deliver(order, **SETTLED)
    _video_hears_checkout(video)

    assert merchant_transfers_sweep() == {"settled": 1, "sent": 0, "reversed": 0}
    transfer = MerchantTransfer.objects.get()
    assert transfer.status == "waiting"
    assert _stripe_transfers(stripe_emulator, order) == []
    owed = order.total_amount - _fee(order.total_amount, 500)
    assert _balance(LedgerAccount.MERCHANT_PAYABLE, uuid.UUID(merchant)) == -owed

    _enable(api_client, merchant)
    assert merchant_transfers_sweep() == {"settled": 0, "sent": 1, "reversed": 0}

    assert [t["amount"] for t in _stripe_transfers(stripe_emulator, order)] == [owed]
    assert _balance(LedgerAccount.MERCHANT_PAYABLE, uuid.UUID(merchant)) == 0
    _assert_balanced()


def test_a_refund_before_settlement_lowers_the_gross_and_the_fee_is_on_what_is_left(
    settings, client_for, api_client, stripe_emulator, video, variants
):
    settings.PLATFORM_FEE_BPS = 1_000
    order = _checkout(
        client_for, api_client, stripe_emulator, [{"variant_id": variants[0]["id"], "quantity": 2}]
    )
    _enable(api_client, variants[0]["merchant_id"])
    deliver(order, **SETTLED)
    order_refund(order=order, amount=301, created_by="admin:test", reason="goodwill")
    _video_hears_checkout(video)

    merchant_transfers_sweep()

    gross = order.total_amount - 301
    transfer = MerchantTransfer.objects.get()
    assert (transfer.gross_amount, transfer.fee_amount, transfer.amount) == (
        gross,
        _fee(gross, 1_000),
        gross - _fee(gross, 1_000),
    )
    assert [t["amount"] for t in _stripe_transfers(stripe_emulator, order)] == [transfer.amount]
    _assert_balanced()


def test_a_refund_after_the_transfer_reverses_exactly_the_merchants_share(
    settings, client_for, api_client, stripe_emulator, video, two_shops, sourced
):
    settings.PLATFORM_FEE_BPS = 500
    first, _ = two_shops
    order = _sold_and_settled(
        client_for, api_client, stripe_emulator, video, first, sourced, quantity=2
    )
    transfer = MerchantTransfer.objects.get()
    line = order.lines.get()

    order_refund(
        order=order, amount=1_001, created_by="admin:test", line_ids=[line.id], reason="damaged"
    )
    # Until video has applied the refund, its clawback is unknown: nothing is reversed.
    assert merchant_transfers_sweep() == {"settled": 0, "sent": 0, "reversed": 0}
    _video_hears_checkout(video)
    done = merchant_transfers_sweep()

    # ADR 38: the fee on what was left less the fee on what is left; the commission video
    # clawed back (its reversal of the one credit); the merchant's share is the rest.
    gross = transfer.gross_amount
    fee_part = _fee(gross, 500) - _fee(gross - 1_001, 500)
    total = line.line_total_amount
    commission_part = _commission(total) - _commission(total - 1_001)
    merchant_part = 1_001 - fee_part - commission_part
    assert done == {"settled": 0, "sent": 0, "reversed": 1}
    stripe_transfer = _stripe_transfers(stripe_emulator, order)[0]
    assert stripe_transfer["amount_reversed"] == merchant_part
    transfer.refresh_from_db()
    assert transfer.reversed_amount == merchant_part
    assert _balance(LedgerAccount.MERCHANT_PAYABLE, line.merchant_id) == 0
    assert _balance(LedgerAccount.PLATFORM_FEE_REVENUE) == -(transfer.fee_amount - fee_part)
    assert _balance(LedgerAccount.CREATOR_COMMISSION_PAYABLE, line.merchant_id) == -(
        transfer.commission_amount - commission_part
    )
    assert _balance(LedgerAccount.PLATFORM_CASH, order_id=order.id) == (
        order.total_amount - 1_001 - transfer.amount + merchant_part
    )
    _assert_balanced()
    assert merchant_transfers_sweep() == {"settled": 0, "sent": 0, "reversed": 0}
    kinds = sorted(LedgerEntry.objects.filter(order_id=order.id).values_list("kind", flat=True))
    assert kinds == [
        "commission_clawback",
        "order_paid",
        "refund",
        "settlement",
        "transfer",
        "transfer_reversal",
    ]


def test_replayed_payment_and_refund_events_post_once(
    client_for, api_client, stripe_emulator, variants
):
    order = _checkout(
        client_for, api_client, stripe_emulator, [{"variant_id": variants[0]["id"], "quantity": 1}]
    )
    for _ in range(3):  # redelivered, and a new event id for the same payment
        webhook_post(api_client, stripe_event("payment_intent.succeeded", intent_object(order)))
    order_refund(order=order, amount=100, created_by="admin:test")
    refund = order.refunds.get()
    with transaction.atomic():
        refund_post(Order.objects.get(id=order.id), refund)

    kinds = list(LedgerEntry.objects.order_by("id").values_list("kind", "source_key"))
    assert kinds == [("order_paid", f"order_paid:{order.id}"), ("refund", f"refund:{refund.id}")]
    assert _balance(LedgerAccount.PLATFORM_CASH) == order.total_amount - 100
    _assert_balanced()


def test_the_database_refuses_an_unbalanced_entry_and_any_change_to_the_ledger():
    with pytest.raises(IntegrityError), transaction.atomic():
        entry_post(
            kind="refund",
            source_key="unbalanced",
            currency="EUR",
            postings=[
                Posting(LedgerAccount.PLATFORM_CASH, 100),
                Posting(LedgerAccount.PLATFORM_FEE_REVENUE, -99),
            ],
        )
    with pytest.raises(IntegrityError), transaction.atomic():
        entry = LedgerEntry.objects.create(kind="refund", source_key="one-legged")
        LedgerPosting.objects.create(
            entry=entry, account=LedgerAccount.PLATFORM_CASH, currency="EUR", amount=5
        )
        with connection.cursor() as cursor:
            cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")
    entry = entry_post(
        kind="refund",
        source_key="fine",
        currency="EUR",
        postings=[
            Posting(LedgerAccount.PLATFORM_CASH, 100),
            Posting(LedgerAccount.PLATFORM_FEE_REVENUE, -100),
        ],
    )
    assert entry is not None
    with pytest.raises(IntegrityError), transaction.atomic():
        LedgerPosting.objects.filter(entry=entry).update(amount=1)
    with pytest.raises(IntegrityError), transaction.atomic():
        LedgerEntry.objects.filter(id=entry.id).delete()
    assert sorted(entry.postings.values_list("amount", flat=True)) == [-100, 100]
    _assert_balanced()


@pytest.mark.concurrency
@pytest.mark.django_db(transaction=True)
def test_two_sweeps_at_once_settle_and_transfer_once(
    client_for, api_client, stripe_emulator, video, variants
):
    order = _checkout(
        client_for, api_client, stripe_emulator, [{"variant_id": variants[0]["id"], "quantity": 1}]
    )
    _enable(api_client, variants[0]["merchant_id"])
    deliver(order, **SETTLED)
    _video_hears_checkout(video)
    barrier = threading.Barrier(2)
    outcomes: list[Any] = []

    def sweep() -> None:
        try:
            barrier.wait()
            outcomes.append(merchant_transfers_sweep())
        except Exception as error:
            outcomes.append(repr(error))
        finally:
            connections.close_all()

    threads = [threading.Thread(target=sweep) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)

    assert sum(outcome["sent"] for outcome in outcomes) == 1, outcomes
    assert sum(outcome["settled"] for outcome in outcomes) == 1, outcomes
    assert len(_stripe_transfers(stripe_emulator, order)) == 1
    assert MerchantTransfer.objects.get().status == "sent"
    assert LedgerEntry.objects.filter(kind="transfer").count() == 1
    _assert_balanced()
