"""Merchant payouts bench: seed settled merchant parts and time checkout's batch (run by
parts/payouts.py, beside bench_payouts.py's creators).

Run in a subprocess like the seed scripts (DJANGO_SETTINGS_MODULE=bench_settings,
`services/checkout` as working directory, CHECKOUT_DATABASE_URL pointing at
`clipcart_checkout_payouts_bench`, STRIPE_API_BASE at the bench's emulator). It fills the
database in SQL with what checkout holds once 10,000 orders of 3 merchants settled: a
waiting `MerchantTransfer` per (order, merchant) — 30,000 parts — and the ledger's
entries that made each payable (cash in, the merchant's payable credited). Each merchant
has an enabled Connect account on the emulator, and the platform's balance holds enough.
Then, in the same run:

1. the floor: one plain-SQL aggregation of the same payables (the ledger's
   `merchant_payable` per merchant and currency);
2. the real thing, timed as one: `batches_due` and `merchant_batch_send` for each
   merchant (the batch row, its parts claimed, one Stripe transfer, the parts sent and
   30,000 transfer entries posted set-based);
3. checks: each batch equals the floor's sum, one Stripe call per account, the ledger
   balanced with every payable back to zero.

Not timed: settling the parts (each asks video its commission over HTTP).
Prints progress on stderr and one JSON object on its last stdout line.
"""

from __future__ import annotations

import json
import os
import sys
import time
import uuid
from typing import Any

import django

ORDERS = 10_000
MERCHANTS = 3

FLOOR = """
SELECT merchant_id, currency, -sum(amount)::bigint FROM payments_ledgerposting
WHERE account = 'merchant_payable' GROUP BY 1, 2
"""


def say(message: str) -> None:
    print(f"bench: {message}", file=sys.stderr, flush=True)


def main() -> int:
    database = os.environ.get("CHECKOUT_DATABASE_URL", "")
    if not database.rstrip("/").split("?")[0].endswith("/clipcart_checkout_payouts_bench"):
        print(f"refusing to seed {database!r}: not the payouts bench database", file=sys.stderr)
        return 2
    django.setup()

    from django.db import connection, transaction
    from django.utils import timezone

    from orders.services.transfer_batches import batches_due, merchant_batch_send
    from payments import stripe_api
    from payments.ledger import ledger_audit
    from payments.models import MerchantTransferBatch

    started = time.monotonic()
    merchants = [uuid.uuid4() for _ in range(MERCHANTS)]
    with transaction.atomic(), connection.cursor() as cursor:
        seed(cursor, merchants)
    with connection.cursor() as cursor:
        cursor.execute("VACUUM ANALYZE")
        cursor.execute("SELECT sum(amount) FROM payments_merchanttransfer")
        (total,) = cursor.fetchone()
    accounts_enable(merchants, int(total))
    say(f"seeded {ORDERS * MERCHANTS:,} settled parts in {time.monotonic() - started:.1f} s")

    with connection.cursor() as cursor:
        began = time.perf_counter()
        cursor.execute(FLOOR)
        floor = {(str(m), c): int(amount) for m, c, amount in cursor.fetchall()}
        floor_seconds = time.perf_counter() - began

    calls: list[str] = []
    counted = stripe_api._call

    def counting(operation: str, *args: Any, **kwargs: Any) -> Any:
        calls.append(operation)
        return counted(operation, *args, **kwargs)

    stripe_api._call = counting  # type: ignore[assignment]
    now = timezone.now()
    began = time.perf_counter()
    sent = [
        merchant_batch_send(merchant_id=merchant, currency=currency, now=now)
        for merchant, currency in batches_due(now=now)
    ]
    pay_seconds = time.perf_counter() - began
    stripe_api._call = counted  # type: ignore[assignment]
    say(f"merchant batches: {pay_seconds:.3f} s, {len(calls)} Stripe calls")

    sent_batches = list(MerchantTransferBatch.objects.filter(status="sent"))
    batches = {(str(b.merchant_id), b.currency): b.amount for b in sent_batches}
    at_stripe = [
        stripe_api.client().v1.transfers.retrieve(b.stripe_transfer_id) for b in sent_batches
    ]
    with connection.cursor() as cursor:
        cursor.execute(FLOOR)
        left = {int(amount) for _, _, amount in cursor.fetchall()}
    print(
        json.dumps(
            {
                "orders": ORDERS,
                "parts": ORDERS * MERCHANTS,
                "merchants": MERCHANTS,
                "floor_seconds": floor_seconds,
                "pay_seconds": pay_seconds,
                "batches_sent": sum(sent),
                "stripe_calls": len(calls),
                "stripe_operations": sorted(set(calls)),
                "batches_equal_floor": batches == floor,
                "transfers_match": sorted((t.destination, t.amount) for t in at_stripe)
                == sorted((b.stripe_account_id, b.amount) for b in sent_batches),
                "ledger_balanced": ledger_audit().is_balanced,
                "payables_left": sorted(left),
            }
        )
    )
    return 0


def seed(cursor: Any, merchants: list[uuid.UUID]) -> None:
    execute = cursor.execute
    execute(
        "TRUNCATE payments_transferreversal, payments_merchanttransfer, "
        "payments_merchanttransferbatch, payments_ledgerposting, payments_ledgerentry, "
        "payments_merchantpayoutaccount CASCADE"
    )
    execute(
        """
        CREATE TEMP TABLE bench_parts AS
        SELECT gen_random_uuid() AS id, gen_random_uuid() AS order_id,
               (%(merchants)s::uuid[])[k + 1] AS merchant_id,
               800 + (n * 37 + k * 1013) %% 5000 AS amount, n, k
        FROM generate_series(0, %(orders)s - 1) n CROSS JOIN generate_series(0, %(count)s - 1) k
        """,
        {"merchants": merchants, "orders": ORDERS, "count": MERCHANTS},
    )
    execute(
        """
        INSERT INTO payments_merchanttransfer (id, order_id, merchant_id, currency,
            gross_amount, fee_rate_bps, fee_amount, commission_amount, amount, reversed_amount,
            status, stripe_account_id, stripe_transfer_id, last_failure, settled_at)
        SELECT id, order_id, merchant_id, 'EUR', amount, 0, 0, 0, amount, 0, 'waiting', '', '',
               '', now() - interval '1 hour'
        FROM bench_parts
        """
    )
    # What made each payable, in short: the cash came in and the merchant is owed it.
    execute(
        """
        INSERT INTO payments_ledgerentry (kind, source_key, order_id, memo, created_at)
        SELECT 'settlement', 'settlement:' || order_id || ':' || merchant_id, order_id,
               'bench', now()
        FROM bench_parts
        """
    )
    execute(
        """
        INSERT INTO payments_ledgerposting (entry_id, account, merchant_id, currency, amount)
        SELECT e.id, a.account, CASE WHEN a.account = 'platform_cash' THEN NULL
                                     ELSE p.merchant_id END,
               'EUR', CASE WHEN a.account = 'platform_cash' THEN p.amount ELSE -p.amount END
        FROM bench_parts p
        JOIN payments_ledgerentry e
            ON e.source_key = 'settlement:' || p.order_id || ':' || p.merchant_id
        CROSS JOIN (VALUES ('platform_cash'), ('merchant_payable')) a(account)
        """
    )


def accounts_enable(merchants: list[uuid.UUID], platform_balance: int) -> None:
    """An enabled Express account per merchant on the emulator, and one charge that puts
    enough in the platform's balance for every batch."""
    from django.conf import settings

    from clipcart_tools.localstripe import complete_account_link, stripe_client
    from payments.models import MerchantPayoutAccount

    client = stripe_client(settings.STRIPE_API_BASE, settings.STRIPE_SECRET_KEY)
    for merchant in merchants:
        account = client.v1.accounts.create(
            {"type": "express", "capabilities": {"transfers": {"requested": True}}}
        )
        link = client.v1.account_links.create(
            {
                "account": account.id,
                "type": "account_onboarding",
                "refresh_url": "https://shop.example/refresh",
                "return_url": "https://shop.example/return",
            }
        )
        complete_account_link(link.url)
        MerchantPayoutAccount.objects.create(
            merchant_id=merchant,
            stripe_account_id=account.id,
            status="enabled",
            created_by="bench",
        )
    intent = client.v1.payment_intents.create(
        {"amount": platform_balance, "currency": "eur", "payment_method": "pm_card_visa"}
    )
    client.v1.payment_intents.confirm(intent.id)


if __name__ == "__main__":
    sys.exit(main())
