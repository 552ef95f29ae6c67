"""Creators' payouts in batches (ADR 33). Each run (beat, `payouts.creator_payouts_run`):

1. freezes what settled: the sale lines that settled by ADR 26's rule under their
   merchant's attribution model become `SettledSaleLine`s, and each of their credits a
   `BalanceEntry` of the creator (`credit:<id>`, once); credits arriving later on a
   settled line — a refund's reversal — are clawbacks, taken from later payouts;
2. pays the batch: for each creator whose account is `enabled` and whose balance in a
   currency as the batch began (less any clawback since) is at least
   `CREATOR_PAYOUT_MINIMUM_AMOUNT`, one `CreatorPayout` of it per (account, batch,
   currency) — a unique constraint — written with its
   negative entries and committed before Stripe is asked with the payout's id as
   idempotency key. A balance below the minimum, negative (a clawback larger than what
   was owed), or of a creator without an enabled account rolls over: nothing is sent,
   never a debit. Stripe unreachable leaves the payout `sending`, asked again with the
   same key after `SENDING_LEASE`; Stripe's refusal gives the balance back (`failed`);
3. records each sent payout in checkout's ledger (the platform's cash out, the
   creators' commission payable per merchant down), retried by later runs until
   checkout has it."""

from __future__ import annotations

import logging
import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

from django.conf import settings
from django.db import IntegrityError, connection, transaction
from django.db.models import Q, Sum
from django.utils import timezone

from attribution.models import AttributionModel, Credit, MerchantAttributionSettings, SaleLine
from clipcart_shared.sweeps.services import rows_backed_off, rows_each
from core import checkout, stripe_api
from creators.models import Creator
from payouts.models import BalanceEntry, CreatorPayout, CreatorPayoutAccount, SettledSaleLine

logger = logging.getLogger(__name__)

PAY_TASK = "payouts.creator_payout_send"
RECORD_TASK = "payouts.creator_payout_record"
SENDING_LEASE = timedelta(minutes=10)
# Periods start on a Monday, 00:00 UTC (1970-01-05 was one).
PERIOD_ANCHOR = datetime(1970, 1, 5, tzinfo=UTC)
# One run at a time freezes settled lines (a second waits, then finds nothing new).
FREEZE_LOCK = 0x5041594F  # "PAYO"


def batch_of(moment: datetime) -> datetime:
    """The start of the batch period `moment` falls in."""
    period = settings.CREATOR_PAYOUT_PERIOD_SECONDS
    elapsed = int((moment - PERIOD_ANCHOR).total_seconds())
    return PERIOD_ANCHOR + timedelta(seconds=elapsed - elapsed % period)


def next_batch(moment: datetime) -> datetime:
    return batch_of(moment) + timedelta(seconds=settings.CREATOR_PAYOUT_PERIOD_SECONDS)


# The lines settled as of %(now)s under their merchant's model (ADR 26, as
# `attribution.selectors._CREDIT_SUMS` reads them): delivered (refunded units count out),
# no return open, the latest window closed, and not refunded whole.
_SETTLED_LINES = f"""
INSERT INTO {SettledSaleLine._meta.db_table} (line_id, settled_at)
SELECT l.line_id, %(now)s
FROM {SaleLine._meta.db_table} l
LEFT JOIN {MerchantAttributionSettings._meta.db_table} m ON m.merchant_id = l.merchant_id
CROSS JOIN LATERAL (
    SELECT sum(x.amount) AS line_net FROM {Credit._meta.db_table} x
    WHERE x.sale_line_id = l.line_id
      AND x.model = coalesce(m.default_model, %(default_model)s)
) n
WHERE l.delivered_quantity > 0 AND l.held_quantity = 0
  AND l.returns_close_at <= %(now)s
  AND n.line_net > 0
  AND l.delivered_quantity + coalesce(
      ((l.amount - n.line_net)::bigint * l.quantity) / nullif(l.amount, 0), 0
  ) >= l.quantity
  AND NOT EXISTS (SELECT 1 FROM {SettledSaleLine._meta.db_table} s WHERE s.line_id = l.line_id)
ON CONFLICT (line_id) DO NOTHING
RETURNING line_id
"""

# Every credit of a settled line under its merchant's model, to a creator, with commission,
# not yet an entry: commission for the lines settling in this run (%(settling)s), a
# clawback on a line settled before (a refund's reversal arrived since).
_CREDIT_ENTRIES = f"""
INSERT INTO {BalanceEntry._meta.db_table}
    (creator_id, merchant_id, currency, kind, amount, source_key, sale_line_id, created_at)
SELECT c.creator_id, c.merchant_id, upper(c.currency),
       CASE WHEN c.sale_line_id = ANY(%(settling)s) THEN 'commission' ELSE 'clawback' END,
       c.commission_amount, 'credit:' || c.id, c.sale_line_id, %(now)s
FROM {Credit._meta.db_table} c
JOIN {SettledSaleLine._meta.db_table} s ON s.line_id = c.sale_line_id
LEFT JOIN {MerchantAttributionSettings._meta.db_table} m ON m.merchant_id = c.merchant_id
WHERE c.model = coalesce(m.default_model, %(default_model)s)
  AND c.creator_id IS NOT NULL AND c.commission_amount <> 0
  AND EXISTS (SELECT 1 FROM {Creator._meta.db_table} cr WHERE cr.id = c.creator_id)
ON CONFLICT (source_key) DO NOTHING
"""


def settled_commission_freeze(*, now: datetime | None = None) -> int:
    """Freeze what settled (step 1); how many entries it added."""
    now = now or timezone.now()
    params: dict[str, Any] = {"now": now, "default_model": AttributionModel.LAST_TOUCH.value}
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute("SELECT pg_advisory_xact_lock(%s)", [FREEZE_LOCK])
        cursor.execute(_SETTLED_LINES, params)
        settling = [row[0] for row in cursor.fetchall()]
        cursor.execute(_CREDIT_ENTRIES, {**params, "settling": settling})
        return cursor.rowcount


def creator_balances(*, creator_id: uuid.UUID) -> dict[str, int]:
    """{currency: balance} of one creator."""
    return {
        row["currency"]: int(row["total"])
        for row in BalanceEntry.objects.filter(creator_id=creator_id)
        .values("currency")
        .annotate(total=Sum("amount"))
        .order_by()
    }


def payable_in(batch: datetime) -> Q:
    """The entries a batch pays: those posted before it began, and whatever takes from the
    balance whenever it came (a clawback is never left for later while a payout goes)."""
    return Q(created_at__lt=batch) | Q(amount__lt=0)


def payouts_due(*, batch: datetime) -> list[tuple[uuid.UUID, str]]:
    """(creator, currency) whose balance reaches the minimum, with an enabled account and
    no payout in this batch (one query)."""
    paid = CreatorPayout.objects.filter(batch=batch).values_list("creator_id", "currency")
    rows = (
        BalanceEntry.objects.filter(
            payable_in(batch), creator__payout_account__status=CreatorPayoutAccount.Status.ENABLED
        )
        .values("creator_id", "currency")
        .annotate(total=Sum("amount"))
        .filter(total__gte=max(settings.CREATOR_PAYOUT_MINIMUM_AMOUNT, 1))
        .order_by("creator_id", "currency")
    )
    done = set(paid)
    backed_off = set(rows_backed_off(task=PAY_TASK))
    return [
        (row["creator_id"], row["currency"])
        for row in rows
        if (row["creator_id"], row["currency"]) not in done
        and f"{row['creator_id']}:{row['currency']}" not in backed_off
    ]


def creator_payout_make(
    *, creator_id: uuid.UUID, currency: str, batch: datetime, now: datetime
) -> CreatorPayout | None:
    """Write the creator's payout of this batch in `currency` (their balance as the batch
    began, less what was taken since, per merchant: `payable_in`), committed before Stripe
    is asked; None when there is nothing to pay (below the minimum, no enabled account)
    or this batch already has it."""
    with transaction.atomic():
        account = (
            CreatorPayoutAccount.objects.select_for_update()
            .filter(creator_id=creator_id, status=CreatorPayoutAccount.Status.ENABLED)
            .first()
        )
        if account is None:
            return None
        per_merchant = {
            row["merchant_id"]: int(row["total"])
            for row in BalanceEntry.objects.filter(
                payable_in(batch), creator_id=creator_id, currency=currency
            )
            .values("merchant_id")
            .annotate(total=Sum("amount"))
            .order_by("merchant_id")
        }
        amount = sum(per_merchant.values())
        if amount < max(settings.CREATOR_PAYOUT_MINIMUM_AMOUNT, 1):
            return None
        try:
            with transaction.atomic():
                payout = CreatorPayout.objects.create(
                    creator_id=creator_id,
                    batch=batch,
                    stripe_account_id=account.stripe_account_id,
                    currency=currency,
                    amount=amount,
                    sending_since=now,
                )
        except IntegrityError:
            return None  # another run wrote this batch's payout meanwhile
        BalanceEntry.objects.bulk_create(
            [
                BalanceEntry(
                    creator_id=creator_id,
                    merchant_id=merchant_id,
                    currency=currency,
                    kind=BalanceEntry.Kind.PAYOUT,
                    amount=-total,
                    source_key=f"payout:{payout.id}:{merchant_id}",
                    payout=payout,
                    created_at=now,
                )
                for merchant_id, total in per_merchant.items()
                if total
            ]
        )
    return payout


def creator_payout_send(*, payout_id: uuid.UUID, now: datetime | None = None) -> bool:
    """Ask Stripe for the payout's transfer (keyed by the payout's id: a retry pays once)
    if it is `sending` and fresh or past the lease; whether it was sent now. Stripe's
    refusal marks it `failed` and gives the balance back (it rolls over); Stripe
    unreachable leaves it `sending` and raises (the run backs it off)."""
    now = now or timezone.now()
    payout = CreatorPayout.objects.get(id=payout_id)
    if payout.status != CreatorPayout.Status.SENDING:
        return False
    try:
        transfer_id = stripe_api.payout_transfer_create(
            payout_key=str(payout.id),
            amount=payout.amount,
            currency=payout.currency,
            destination=payout.stripe_account_id,
            metadata={
                "creator_id": str(payout.creator_id),
                "payout_id": str(payout.id),
                "batch": payout.batch.isoformat(),
            },
        )
    except stripe_api.PayoutProviderRejected as error:
        _payout_failed(payout_id, f"Stripe refused: {error}")
        return False
    except stripe_api.PayoutProviderUnavailable as error:
        CreatorPayout.objects.filter(id=payout_id).update(
            last_failure=f"Stripe unreachable: {error}"[:300], sending_since=now
        )
        raise
    updated = CreatorPayout.objects.filter(
        id=payout_id, status=CreatorPayout.Status.SENDING
    ).update(
        status=CreatorPayout.Status.SENT,
        stripe_transfer_id=transfer_id,
        sent_at=timezone.now(),
        last_failure="",
    )
    logger.info(
        "Creator payout sent",
        extra={"payout_id": str(payout_id), "stripe_transfer_id": transfer_id},
    )
    return bool(updated)


def _payout_failed(payout_id: uuid.UUID, reason: str) -> None:
    with transaction.atomic():
        payout = CreatorPayout.objects.select_for_update().get(id=payout_id)
        if payout.status != CreatorPayout.Status.SENDING:
            return
        payout.status = CreatorPayout.Status.FAILED
        payout.last_failure = reason[:300]
        payout.save(update_fields=["status", "last_failure"])
        BalanceEntry.objects.bulk_create(
            [
                BalanceEntry(
                    creator_id=entry.creator_id,
                    merchant_id=entry.merchant_id,
                    currency=entry.currency,
                    kind=BalanceEntry.Kind.PAYOUT_FAILED,
                    amount=-entry.amount,
                    source_key=f"payout_failed:{payout.id}:{entry.merchant_id}",
                    payout=payout,
                )
                for entry in payout.entries.filter(kind=BalanceEntry.Kind.PAYOUT)
            ]
        )
    logger.warning("Stripe refused a creator payout", extra={"payout_id": str(payout_id)})


def creator_payout_record(*, payout_id: uuid.UUID) -> bool:
    """Post a sent payout in checkout's ledger (idempotent there by the payout's id);
    whether it is recorded now. Raises `checkout.CheckoutUnavailable` (retried later)."""
    payout = CreatorPayout.objects.get(id=payout_id)
    if payout.status != CreatorPayout.Status.SENT or payout.ledger_recorded_at:
        return False
    merchants = [
        {"merchant_id": str(entry.merchant_id), "amount": -entry.amount}
        for entry in payout.entries.filter(kind=BalanceEntry.Kind.PAYOUT).order_by("merchant_id")
    ]
    checkout.creator_payout_record(
        payout_id=str(payout.id),
        creator_id=str(payout.creator_id),
        currency=payout.currency,
        amount=payout.amount,
        stripe_transfer_id=payout.stripe_transfer_id,
        merchants=merchants,
    )
    CreatorPayout.objects.filter(id=payout_id).update(ledger_recorded_at=timezone.now())
    return True


def creator_payouts_run(*, now: datetime | None = None) -> dict[str, int]:
    """One run: freeze, pay this batch, retry what is left sending, record in checkout's
    ledger. Each payout on its own (one that fails is logged and backed off)."""
    now = now or timezone.now()
    batch = batch_of(now)
    frozen = settled_commission_freeze(now=now)
    made = rows_each(
        task=PAY_TASK,
        rows=payouts_due(batch=batch),
        handle=lambda due: creator_payout_make(
            creator_id=due[0], currency=due[1], batch=batch, now=now
        ),
        key=lambda due: f"{due[0]}:{due[1]}",
    )
    sending = list(
        CreatorPayout.objects.filter(status=CreatorPayout.Status.SENDING)
        .filter(Q(id__in=[p.id for p in made if p]) | Q(sending_since__lt=now - SENDING_LEASE))
        .order_by("created_at")
        .values_list("id", flat=True)
    )
    sent = rows_each(
        task=PAY_TASK,
        rows=sending,
        handle=lambda payout_id: creator_payout_send(payout_id=payout_id, now=now),
    )
    unrecorded = list(
        CreatorPayout.objects.filter(
            status=CreatorPayout.Status.SENT, ledger_recorded_at__isnull=True
        )
        .exclude(id__in=rows_backed_off(task=RECORD_TASK))
        .order_by("sent_at")
        .values_list("id", flat=True)
    )
    recorded = rows_each(
        task=RECORD_TASK,
        rows=unrecorded,
        handle=lambda payout_id: creator_payout_record(payout_id=payout_id),
    )
    result = {
        "frozen": frozen,
        "made": sum(1 for payout in made if payout is not None),
        "sent": sum(1 for was_sent in sent if was_sent),
        "recorded": sum(1 for was in recorded if was),
    }
    logger.info("Creator payouts run", extra={"batch": batch.isoformat(), **result})
    return result
