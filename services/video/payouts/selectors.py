"""Reads of creators' payout accounts and payouts."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from django.conf import settings
from django.db.models import Count, Q, Sum
from django.utils import timezone

from clipcart_shared.connect import PayoutStatus
from creators.models import Creator
from payouts.batches import batch_of, next_batch, payable_in
from payouts.models import BalanceEntry, CreatorPayout, CreatorPayoutAccount


def creator_payout_account_render(*, creator: Creator) -> dict[str, Any]:
    """`{status, updated_at}` of the creator's payout account; `none` (and no date) when
    they have not started setting one up."""
    account = CreatorPayoutAccount.objects.filter(creator=creator).first()
    if account is None:
        return {"status": PayoutStatus.NONE.value, "updated_at": None}
    return {"status": account.status, "updated_at": account.updated_at}


def creator_payouts_summary(*, creator: Creator, now: datetime | None = None) -> dict[str, Any]:
    """What the earnings answer says of payouts (ADR 33): per currency the commission
    paid out (all time), what refunds clawed back after it settled, and the balance
    (negative: a clawback carried forward); and the next payout — the next batch's date
    and, per currency, what it would pay and its status: `scheduled`, `due` (this batch
    has not paid it yet: the next run does), `below_minimum` (it rolls over) or
    `account_not_enabled`. Three queries."""
    now = now or timezone.now()
    batch = batch_of(now)
    sums = (
        BalanceEntry.objects.filter(creator=creator)
        .values("currency")
        .annotate(
            balance=Sum("amount"),
            clawed_back=Sum("amount", filter=Q(kind=BalanceEntry.Kind.CLAWBACK)),
            due=Sum("amount", filter=payable_in(batch)),
        )
        .order_by("currency")
    )
    payouts = (
        CreatorPayout.objects.filter(creator=creator)
        .values("currency")
        .annotate(
            sent=Sum("amount", filter=Q(status=CreatorPayout.Status.SENT)),
            this_batch=Count("id", filter=Q(batch=batch) & ~Q(status=CreatorPayout.Status.FAILED)),
        )
        .order_by()
    )
    paid = {row["currency"]: int(row["sent"] or 0) for row in payouts if row["sent"]}
    paid_this_batch = {row["currency"] for row in payouts if row["this_batch"]}
    account = CreatorPayoutAccount.objects.filter(creator=creator).first()
    enabled = account is not None and account.status == CreatorPayoutAccount.Status.ENABLED
    minimum = max(settings.CREATOR_PAYOUT_MINIMUM_AMOUNT, 1)
    currencies, upcoming = [], []
    for row in sums:
        currency, balance = row["currency"], int(row["balance"] or 0)
        currencies.append(
            {
                "currency": currency,
                "paid_out": int(paid.pop(currency, 0) or 0),
                "clawed_back": -int(row["clawed_back"] or 0),
                "balance": balance,
            }
        )
        if not enabled:
            status = "account_not_enabled"
        elif currency not in paid_this_batch and int(row["due"] or 0) >= minimum:
            status = "due"
        elif balance < minimum:
            status = "below_minimum"
        else:
            status = "scheduled"
        upcoming.append({"currency": currency, "amount": max(balance, 0), "status": status})
    currencies += [
        {"currency": currency, "paid_out": int(total), "clawed_back": 0, "balance": 0}
        for currency, total in paid.items()
    ]
    return {
        "payouts": currencies,
        "next_payout": {"on": next_batch(now), "minimum": minimum, "amounts": upcoming},
    }


def creator_balances_by_merchant(*, before: datetime) -> list[dict[str, Any]]:
    """What video owes creators, per merchant whose sales it comes from and currency, as
    checkout's ledger should show it (its `creator_commission_payable`, ADR 33): the
    commission frozen and the clawbacks posted before `before`, less the payouts that
    checkout's ledger recorded before then (a payout still being sent or recorded, or
    refused and given back, is not in checkout's books yet). One query."""
    recorded = Q(payout__isnull=True) | Q(payout__ledger_recorded_at__lt=before)
    rows = (
        BalanceEntry.objects.filter(recorded, created_at__lt=before)
        .values("merchant_id", "currency")
        .annotate(amount=Sum("amount"))
        .order_by("merchant_id", "currency")
    )
    return [
        {"merchant_id": row["merchant_id"], "currency": row["currency"], "amount": row["amount"]}
        for row in rows
    ]
