"""Merchants paid in batches (ADR 38): a settled part accrues to its merchant's payable;
each batch period sends what is waiting as one Stripe transfer per (account, batch,
currency) — a database constraint — keyed by our batch id; a part settled after its
period's batch waits for the next; a refund after the batch reverses exactly the
refunded share on the transfer that carried the part; Stripe unreachable is retried with
the same key and transfers once; concurrent runs make one transfer. Real PostgreSQL, the
real video service, the real SDK against the emulator."""

from __future__ import annotations

import threading
import uuid
from datetime import timedelta
from typing import Any

import pytest
from django.db import IntegrityError, connections, transaction
from django.utils import timezone

from clipcart_tools.localstripe import stripe_client
from clipcart_tools.testing.services import free_port
from core import video as video_api
from orders.models import Order
from orders.services import order_refund
from orders.services.transfer_batches import merchant_batch_send, transfer_batch_of
from orders.services.transfers import merchant_transfers_sweep
from payments.models import LedgerAccount, LedgerEntry, MerchantTransfer, MerchantTransferBatch
from tests.after_payment import deliver
from tests.conftest import STRIPE_KEY
from tests.money.conftest import (
    SETTLED,
    _assert_balanced,
    _balance,
    _checkout,
    _enable,
    _fee,
    _video_hears_checkout,
)

pytestmark = pytest.mark.django_db

NOTHING = {"settled": 0, "sent": 0, "reversed": 0}


def _all_transfers(emulator: str) -> list[dict[str, Any]]:
    """Every transfer at the emulator (emptied before each test): each one Stripe call."""
    listed = stripe_client(emulator, STRIPE_KEY).v1.transfers.list({"limit": 100})
    return [transfer.to_dict() for transfer in listed.data]


def _orders(client_for, api_client, emulator, variant, count: int) -> list[Order]:
    orders = [
        _checkout(client_for, api_client, emulator, [{"variant_id": variant["id"], "quantity": 1}])
        for _ in range(count)
    ]
    for order in orders:
        deliver(order, **SETTLED)
    return orders


def test_a_merchants_settled_orders_go_out_as_one_transfer_per_batch(
    client_for, api_client, stripe_emulator, video, two_shops
):
    first, second = two_shops
    accounts = {m["merchant_id"]: _enable(api_client, m["merchant_id"]) for m in two_shops}
    orders = _orders(client_for, api_client, stripe_emulator, first, 3)
    orders += _orders(client_for, api_client, stripe_emulator, second, 2)
    _video_hears_checkout(video)

    assert merchant_transfers_sweep() == {"settled": 5, "sent": 2, "reversed": 0}

    sent = _all_transfers(stripe_emulator)
    parts = list(MerchantTransfer.objects.all())
    owed = {
        account: sum(p.amount for p in parts if str(p.merchant_id) == merchant)
        for merchant, account in accounts.items()
    }
    assert sorted((t["destination"], t["amount"]) for t in sent) == sorted(owed.items())
    batches = {batch.id: batch for batch in MerchantTransferBatch.objects.all()}
    assert len(batches) == 2
    for part in parts:
        batch = batches[part.batch_transfer_id]
        assert (part.status, part.stripe_transfer_id) == ("sent", batch.stripe_transfer_id)
        assert batch.batch == transfer_batch_of(timezone.now())
    assert {t["metadata"]["orders"] for t in sent} == {"3", "2"}
    # Each order's books still show its own transfer; the merchants are owed nothing.
    assert LedgerEntry.objects.filter(kind="transfer").count() == 5
    for merchant in accounts:
        assert _balance(LedgerAccount.MERCHANT_PAYABLE, uuid.UUID(merchant)) == 0
    _assert_balanced()
    assert merchant_transfers_sweep() == NOTHING
    assert len(_all_transfers(stripe_emulator)) == 2


def test_a_part_settled_after_its_periods_batch_waits_for_the_next(
    settings, client_for, api_client, stripe_emulator, video, variants
):
    settings.MERCHANT_TRANSFER_PERIOD_SECONDS = 3_600
    merchant = variants[0]["merchant_id"]
    _enable(api_client, merchant)
    _orders(client_for, api_client, stripe_emulator, variants[0], 1)
    _video_hears_checkout(video)
    assert merchant_transfers_sweep()["sent"] == 1
    [late] = _orders(client_for, api_client, stripe_emulator, variants[0], 1)
    _video_hears_checkout(video)

    assert merchant_transfers_sweep() == {"settled": 1, "sent": 0, "reversed": 0}
    waiting = MerchantTransfer.objects.get(order_id=late.id)
    assert (waiting.status, waiting.batch_transfer_id) == ("waiting", None)
    assert _balance(LedgerAccount.MERCHANT_PAYABLE, uuid.UUID(merchant)) == -waiting.amount

    later = timezone.now() + timedelta(hours=1)
    assert merchant_transfers_sweep(now=later) == {"settled": 0, "sent": 1, "reversed": 0}
    assert sorted(t["amount"] for t in _all_transfers(stripe_emulator)) == sorted(
        MerchantTransfer.objects.values_list("amount", flat=True)
    )
    assert MerchantTransferBatch.objects.count() == 2
    assert _balance(LedgerAccount.MERCHANT_PAYABLE, uuid.UUID(merchant)) == 0
    _assert_balanced()


def test_a_refund_after_the_batch_reverses_its_share_on_the_transfer_that_carried_it(
    settings, client_for, api_client, stripe_emulator, video, variants
):
    settings.PLATFORM_FEE_BPS = 500
    _enable(api_client, variants[0]["merchant_id"])
    kept, refunded = _orders(client_for, api_client, stripe_emulator, variants[0], 2)
    _video_hears_checkout(video)
    merchant_transfers_sweep()
    [carried] = _all_transfers(stripe_emulator)
    part = MerchantTransfer.objects.get(order_id=refunded.id)
    line = refunded.lines.get()

    amount = line.line_total_amount // 2 + 1
    order_refund(order=refunded, amount=amount, created_by="admin:test", line_ids=[line.id])
    _video_hears_checkout(video)
    assert merchant_transfers_sweep() == {"settled": 0, "sent": 0, "reversed": 1}

    # The refund less the fee given back less what video clawed back for it (ADR 38).
    gross = part.gross_amount
    refund = refunded.refunds.get()
    answer = video_api.order_commission(order_id=refunded.id, merchant_id=line.merchant_id)
    clawed = -answer["refunds"].get(str(refund.id), 0)
    merchant_part = amount - (_fee(gross, 500) - _fee(gross - amount, 500)) - clawed
    reversed_ = stripe_client(stripe_emulator, STRIPE_KEY).v1.transfers.retrieve(carried["id"])
    assert (reversed_.amount, reversed_.amount_reversed) == (carried["amount"], merchant_part)
    part.refresh_from_db()
    assert part.reversed_amount == merchant_part
    assert MerchantTransfer.objects.get(order_id=kept.id).reversed_amount == 0
    assert _balance(LedgerAccount.MERCHANT_PAYABLE, line.merchant_id) == 0
    assert len(_all_transfers(stripe_emulator)) == 1
    _assert_balanced()


def test_stripe_unreachable_is_retried_with_the_same_key_and_transfers_once(
    settings, client_for, api_client, stripe_emulator, video, variants
):
    settings.SWEEP_BACKOFF_SECONDS = 0  # the lease, not a backoff, keeps it from retrying
    merchant = variants[0]["merchant_id"]
    account = _enable(api_client, merchant)
    _orders(client_for, api_client, stripe_emulator, variants[0], 2)
    _video_hears_checkout(video)
    settings.STRIPE_API_BASE = f"http://127.0.0.1:{free_port()}"

    assert merchant_transfers_sweep() == {"settled": 2, "sent": 0, "reversed": 0}

    batch = MerchantTransferBatch.objects.get()
    assert batch.status == "sending" and "unreachable" in batch.last_failure
    assert set(MerchantTransfer.objects.values_list("status", flat=True)) == {"sending"}
    settings.STRIPE_API_BASE = stripe_emulator
    # The request had reached Stripe (only the answer was lost): the transfer exists there.
    made = stripe_client(stripe_emulator, STRIPE_KEY).v1.transfers.create(
        {
            "amount": batch.amount,
            "currency": batch.currency.lower(),
            "destination": account,
            "transfer_group": f"merchant-batch-{batch.id}",
            "metadata": {
                "merchant_id": merchant,
                "batch_id": str(batch.id),
                "batch": batch.batch.isoformat(),
                "orders": "2",
            },
        },
        {"idempotency_key": f"clipcart-transfer-batch-{batch.id}"},
    )
    # Within the lease nothing is asked again; after it, the same key.
    assert merchant_transfers_sweep() == NOTHING
    after_lease = timezone.now() + timedelta(minutes=11)
    assert merchant_transfers_sweep(now=after_lease) == {"settled": 0, "sent": 1, "reversed": 0}

    assert [t["id"] for t in _all_transfers(stripe_emulator)] == [made.id]
    batch.refresh_from_db()
    assert (batch.status, batch.stripe_transfer_id) == ("sent", made.id)
    assert LedgerEntry.objects.filter(kind="transfer").count() == 2
    assert merchant_transfers_sweep(now=after_lease + timedelta(minutes=11)) == NOTHING
    _assert_balanced()


def test_the_database_refuses_a_second_batch_for_an_account_period_and_currency(variants):
    fields = {
        "merchant_id": variants[0]["merchant_id"],
        "stripe_account_id": "acct_x",
        "batch": transfer_batch_of(timezone.now()),
        "currency": "EUR",
        "amount": 100,
        "sending_since": timezone.now(),
    }
    MerchantTransferBatch.objects.create(**fields)
    with pytest.raises(IntegrityError), transaction.atomic():
        MerchantTransferBatch.objects.create(**fields)
    MerchantTransferBatch.objects.create(**{**fields, "currency": "USD"})


@pytest.mark.concurrency
@pytest.mark.django_db(transaction=True)
def test_an_account_enabled_late_is_paid_its_accrued_parts_once_by_concurrent_runs(
    client_for, api_client, stripe_emulator, video, variants
):
    merchant = variants[0]["merchant_id"]
    _orders(client_for, api_client, stripe_emulator, variants[0], 3)
    _video_hears_checkout(video)
    assert merchant_transfers_sweep() == {"settled": 3, "sent": 0, "reversed": 0}
    owed = sum(MerchantTransfer.objects.values_list("amount", flat=True))
    assert _balance(LedgerAccount.MERCHANT_PAYABLE, uuid.UUID(merchant)) == -owed
    _enable(api_client, merchant)
    currency = MerchantTransfer.objects.values_list("currency", flat=True).first()
    barrier = threading.Barrier(4)
    outcomes: list[Any] = []

    def run() -> None:
        try:
            barrier.wait()
            outcomes.append(merchant_batch_send(merchant_id=uuid.UUID(merchant), currency=currency))
        except Exception as error:
            outcomes.append(repr(error))
        finally:
            connections.close_all()

    threads = [threading.Thread(target=run) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)

    assert sorted(outcomes, key=str) == [False, False, False, True], outcomes
    assert [t["amount"] for t in _all_transfers(stripe_emulator)] == [owed]
    assert MerchantTransferBatch.objects.get().status == "sent"
    assert LedgerEntry.objects.filter(kind="transfer").count() == 3
    assert _balance(LedgerAccount.MERCHANT_PAYABLE, uuid.UUID(merchant)) == 0
    _assert_balanced()
