"""Payouts bench: seed settled sales and time the creators' payout batch (run by run.py).

Run in a subprocess like the seed scripts (DJANGO_SETTINGS_MODULE=bench_settings,
`services/video` as working directory, VIDEO_DATABASE_URL pointing at
`clipcart_video_payouts_bench`, STRIPE_API_BASE at the bench's emulator). It fills the
database in SQL with what video holds once checkout's events have arrived: 10,000 orders,
each with a line of each of 3 merchants (30,000 sale lines), delivered and past their
return window; each line credited under every model to two of 20 creators (their
commission at 5-14.5 %); the merchants on three different models. Each creator has an
enabled Connect account on the emulator, and the platform's balance there holds enough
(one charge). Then, in the same run:

1. the floor: one plain-SQL aggregation of the same payables (each creator's commission
   on the settled lines under its merchant's model), into a temporary table;
2. the real thing, timed as one: `settled_commission_freeze` (the lines settle: a
   `SettledSaleLine` each and a `BalanceEntry` per credit), as of the hour before this
   week's batch, then the batch as `creator_payouts_run` pays it: `payouts_due`,
   `creator_payout_make` and `creator_payout_send` for each creator (one Stripe transfer
   each). Not timed or done: recording the payouts in checkout's ledger (step 3 of the
   run, one POST per payout to checkout, which does not run here);
3. checks: every creator's payout equals the floor's sum, and the emulator holds one
   transfer per creator of that amount.

Prints progress on stderr and one JSON object on its last stdout line.
"""

from __future__ import annotations

import json
import os
import sys
import time
import uuid
from datetime import timedelta
from typing import Any

import django

ORDERS = 10_000
MERCHANTS = 3
CREATORS = 20
MODELS = ("last_touch", "linear", "time_decay")  # the merchants' choices, one each


def say(message: str) -> None:
    print(f"bench: {message}", file=sys.stderr, flush=True)


# Each creator's payable: commission on settled lines under the merchant's model. The
# same rules the freeze applies, written as the plainest aggregation.
FLOOR = """
CREATE TEMP TABLE bench_floor AS
SELECT c.creator_id, upper(c.currency) AS currency, sum(c.commission_amount)::bigint AS amount
FROM attribution_credit c
JOIN attribution_saleline l ON l.line_id = c.sale_line_id
LEFT JOIN attribution_merchantattributionsettings m ON m.merchant_id = l.merchant_id
WHERE c.model = coalesce(m.default_model, 'last_touch')
  AND c.creator_id IS NOT NULL
  AND l.delivered_quantity >= l.quantity AND l.held_quantity = 0
  AND l.returns_close_at <= %(now)s
GROUP BY 1, 2
"""


def main() -> int:
    database = os.environ.get("VIDEO_DATABASE_URL", "")
    if not database.rstrip("/").split("?")[0].endswith("/clipcart_video_payouts_bench"):
        print(f"refusing to seed {database!r}: not the payouts bench database", file=sys.stderr)
        return 2
    django.setup()

    from django.db import connection, transaction
    from django.utils import timezone

    from core import stripe_api
    from payouts import batches
    from payouts.models import CreatorPayout

    now = timezone.now()
    batch = batches.batch_of(now)
    settled_as_of = batch - timedelta(hours=1)
    started = time.monotonic()
    with transaction.atomic(), connection.cursor() as cursor:
        seed(cursor, returns_closed_at=settled_as_of - timedelta(days=1))
    with connection.cursor() as cursor:
        cursor.execute("VACUUM ANALYZE")
        cursor.execute("SELECT sum(commission_amount) FROM attribution_credit")
        (all_commission,) = cursor.fetchone()
    accounts_enable(int(all_commission))
    say(
        f"seeded {ORDERS:,} orders ({ORDERS * MERCHANTS:,} sale lines), {CREATORS} creators "
        f"with enabled accounts in {time.monotonic() - started:.1f} s"
    )

    with connection.cursor() as cursor:
        began = time.perf_counter()
        cursor.execute(FLOOR, {"now": settled_as_of})
        floor_seconds = time.perf_counter() - began
        cursor.execute("SELECT creator_id, currency, amount FROM bench_floor")
        floor = {(str(creator), currency): int(amount) for creator, currency, amount in cursor}
    say(f"plain-SQL payables: {floor_seconds:.3f} s")

    calls: list[str] = []
    counted = stripe_api._call

    def counting(operation: str, *args: Any, **kwargs: Any) -> Any:
        calls.append(operation)
        return counted(operation, *args, **kwargs)

    stripe_api._call = counting  # type: ignore[assignment]
    began = time.perf_counter()
    entries = batches.settled_commission_freeze(now=settled_as_of)
    frozen = time.perf_counter()
    made = [
        batches.creator_payout_make(creator_id=creator, currency=currency, batch=batch, now=now)
        for creator, currency in batches.payouts_due(batch=batch)
    ]
    written = time.perf_counter()
    sent = [batches.creator_payout_send(payout_id=p.id, now=now) for p in made if p]
    payout_seconds = time.perf_counter() - began
    steps = {
        "freeze": frozen - began,
        "make": written - frozen,
        "send": began + payout_seconds - written,
    }
    stripe_api._call = counted  # type: ignore[assignment]
    say(f"freeze and pay: {payout_seconds:.3f} s, {len(calls)} Stripe calls")

    payouts = {
        (str(p.creator_id), p.currency): p.amount
        for p in CreatorPayout.objects.filter(status=CreatorPayout.Status.SENT)
    }
    transfers = stripe_api.client().v1.transfers.list({"limit": 100})
    on_emulator = sorted(t.amount for t in transfers.data)
    print(
        json.dumps(
            {
                "orders": ORDERS,
                "lines": ORDERS * MERCHANTS,
                "merchants": MERCHANTS,
                "creators": CREATORS,
                "floor_seconds": floor_seconds,
                "payout_seconds": payout_seconds,
                "steps": steps,
                "balance_entries": entries,
                "payouts_sent": sum(sent),
                "stripe_calls": len(calls),
                "stripe_operations": sorted(set(calls)),
                "payouts_equal_floor": payouts == floor,
                "floor_creators": len(floor),
                "transfers_match": on_emulator == sorted(payouts.values()),
                "transfers_on_emulator": len(on_emulator),
            }
        )
    )
    return 0


def seed(cursor: Any, *, returns_closed_at: Any) -> None:
    execute = cursor.execute
    execute(
        "TRUNCATE attribution_credittouch, attribution_saleline, "
        "attribution_merchantattributionsettings, payouts_balanceentry, "
        "payouts_settledsaleline, payouts_creatorpayout, "
        "payouts_creatorpayoutaccount, creators_creator CASCADE"
    )
    merchants = [uuid.uuid4() for _ in range(MERCHANTS)]
    for merchant, model in zip(merchants, MODELS, strict=True):
        execute(
            "INSERT INTO attribution_merchantattributionsettings (merchant_id, merchant_name, "
            "click_window, view_window, default_model, updated_at) "
            "VALUES (%s, '', interval '7 days', interval '1 day', %s, now())",
            [merchant, model],
        )
    execute(
        """
        INSERT INTO creators_creator (id, user_id, handle, display_name, avatar_url,
            commission_rate_bps, followers_count, created_at)
        SELECT gen_random_uuid(), 'bench-creator-' || n, 'bench_creator_' || n,
               'Bench Creator ' || n, '', 500 + 50 * n, 0, now()
        FROM generate_series(0, %s - 1) n
        """,
        [CREATORS],
    )
    # 10,000 orders x one line per merchant; amounts 1,000-5,999 cents, paid 40 days ago,
    # delivered, the window closed before the batch.
    execute(
        """
        CREATE TEMP TABLE bench_lines AS
        SELECT gen_random_uuid() AS line_id, o.order_id, o.n, k AS merchant_index,
               (%(merchants)s::uuid[])[k + 1] AS merchant_id,
               1000 + (o.n * 37 + k * 1013) %% 5000 AS amount
        FROM (SELECT n, gen_random_uuid() AS order_id FROM generate_series(0, %(orders)s - 1) n) o
        CROSS JOIN generate_series(0, %(count)s - 1) k
        """,
        {"merchants": merchants, "orders": ORDERS, "count": MERCHANTS},
    )
    execute(
        """
        INSERT INTO attribution_saleline (line_id, order_id, user_id, merchant_id, product_id,
            variant_id, quantity, amount, currency, paid_at, touch_count, recorded_at,
            delivered_quantity, delivered_at, returns_close_at, held_quantity)
        SELECT line_id, order_id, 'bench-buyer-' || (n %% 500), merchant_id,
               gen_random_uuid(), gen_random_uuid(), 1, amount, 'EUR',
               %(closed)s - interval '40 days', 2, now(), 1, %(closed)s - interval '30 days',
               %(closed)s, 0
        FROM bench_lines
        """,
        {"closed": returns_closed_at},
    )
    # Every model credits two creators of the line (the first and second touch): half
    # each, except last touch (all to the second) and first touch (all to the first).
    execute(
        """
        CREATE TEMP TABLE bench_creators AS
        SELECT id, commission_rate_bps AS rate, row_number() OVER (ORDER BY id) - 1 AS k
        FROM creators_creator
        """
    )
    execute(
        """
        INSERT INTO attribution_credittouch (sale_line_id, position, refund_id, video_id,
            creator_id, touch_type, touched_at, merchant_id, product_id, currency,
            commission_rate_bps, occurred_at, paid_at, is_self_purchase, created_at,
            last_touch_amount, last_touch_commission, first_touch_amount,
            first_touch_commission, linear_amount, linear_commission, time_decay_amount,
            time_decay_commission, position_based_amount, position_based_commission)
        SELECT l.line_id, p.position, NULL, gen_random_uuid(), c.id, 'tag_tap',
               sl.paid_at - interval '1 day', l.merchant_id, sl.product_id, 'EUR', c.rate,
               sl.paid_at, sl.paid_at, false, now(),
               s.last, (2 * s.last * c.rate + 10000) / 20000,
               s.first, (2 * s.first * c.rate + 10000) / 20000,
               s.half, (2 * s.half * c.rate + 10000) / 20000,
               s.half, (2 * s.half * c.rate + 10000) / 20000,
               s.half, (2 * s.half * c.rate + 10000) / 20000
        FROM bench_lines l
        JOIN attribution_saleline sl ON sl.line_id = l.line_id
        CROSS JOIN generate_series(0, 1) p(position)
        JOIN bench_creators c
            ON c.k = CASE p.position WHEN 0 THEN l.n %% %(creators)s
                                     ELSE (l.n * 7 + l.merchant_index + 1) %% %(creators)s END
        CROSS JOIN LATERAL (
            SELECT p.position * l.amount AS last, (1 - p.position) * l.amount AS first,
                   l.amount / 2 + p.position * (l.amount %% 2) AS half
        ) s
        """,
        {"creators": CREATORS},
    )


def accounts_enable(platform_balance: int) -> None:
    """An enabled Express account for each creator on the emulator, and one charge that
    puts enough in the platform's balance for every payout."""
    from django.conf import settings

    from clipcart_tools.localstripe import complete_account_link, stripe_client
    from creators.models import Creator
    from payouts.models import CreatorPayoutAccount

    client = stripe_client(settings.STRIPE_API_BASE, settings.STRIPE_SECRET_KEY)
    for creator in Creator.objects.order_by("handle"):
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
        CreatorPayoutAccount.objects.create(
            creator=creator, stripe_account_id=account.id, status="enabled"
        )
    intent = client.v1.payment_intents.create(
        {"amount": platform_balance, "currency": "eur", "payment_method": "pm_card_visa"}
    )
    client.v1.payment_intents.confirm(intent.id)


if __name__ == "__main__":
    sys.exit(main())
