"""The double-entry ledger: every movement of money as an entry of balanced postings, in
minor units, written in the transaction of the state change it records, once per source
event. Knows no orders: callers say which accounts move by how much.

The database enforces what matters (migration `payments.0005`): a deferred constraint
trigger refuses, at commit, an entry whose postings do not add up to zero per currency
(or that has fewer than two); another refuses any UPDATE or DELETE of entries and
postings; `source_key` is unique. `entry_post` also asks for the balance check at once,
so a bad entry fails where it is posted, not at a distant commit."""

from __future__ import annotations

import logging
import uuid
from collections import defaultdict
from dataclasses import dataclass

from django.db import IntegrityError, connection, transaction
from django.db.models import Count, Sum

from payments.models import LedgerEntry, LedgerPosting

logger = logging.getLogger(__name__)

# The constraint trigger's name (migration 0005): `SET CONSTRAINTS … IMMEDIATE` checks now.
BALANCE_TRIGGER = "ledger_entry_balanced"


@dataclass(frozen=True)
class Posting:
    account: str
    amount: int
    merchant_id: uuid.UUID | None = None


def entry_post(
    *,
    kind: str,
    source_key: str,
    currency: str,
    postings: list[Posting],
    order_id: uuid.UUID | None = None,
    memo: str = "",
) -> LedgerEntry | None:
    """Post one balanced entry for the event `source_key`, in the caller's transaction;
    None (nothing posted) when that event was posted before. Postings of zero are left
    out; an entry with nothing left to post is not written. Raises IntegrityError
    (through the database's check) for postings that do not balance."""
    kept = [posting for posting in postings if posting.amount]
    if not kept:
        return None
    try:
        with transaction.atomic():
            entry = LedgerEntry.objects.create(
                kind=kind, source_key=source_key, order_id=order_id, memo=memo[:200]
            )
    except IntegrityError:
        if LedgerEntry.objects.filter(source_key=source_key).exists():
            return None
        raise
    LedgerPosting.objects.bulk_create(
        [
            LedgerPosting(
                entry=entry,
                account=posting.account,
                merchant_id=posting.merchant_id,
                currency=currency.upper(),
                amount=posting.amount,
            )
            for posting in kept
        ]
    )
    with connection.cursor() as cursor:
        cursor.execute(f"SET CONSTRAINTS {BALANCE_TRIGGER} IMMEDIATE")
        cursor.execute(f"SET CONSTRAINTS {BALANCE_TRIGGER} DEFERRED")
    logger.info(
        "Ledger entry posted", extra={"source_key": source_key, "kind": kind, "entry": entry.id}
    )
    return entry


def entry_posted(*, source_key: str) -> bool:
    return LedgerEntry.objects.filter(source_key=source_key).exists()


def account_balance(
    *, account: str, merchant_id: uuid.UUID | None = None, order_id: uuid.UUID | None = None
) -> dict[str, int]:
    """{currency: balance} of an account (debits - credits), for one merchant and one
    order's entries when given."""
    postings = LedgerPosting.objects.filter(account=account)
    if merchant_id is not None:
        postings = postings.filter(merchant_id=merchant_id)
    if order_id is not None:
        postings = postings.filter(entry__order_id=order_id)
    return {
        row["currency"]: int(row["total"])
        for row in postings.values("currency").annotate(total=Sum("amount")).order_by()
    }


def account_balances() -> list[dict[str, object]]:
    """Every account's balance: [{account, merchant_id, currency, balance}]."""
    return [
        {**row, "balance": int(row.pop("total"))}
        for row in LedgerPosting.objects.values("account", "merchant_id", "currency")
        .annotate(total=Sum("amount"))
        .order_by("account", "merchant_id", "currency")
    ]


@dataclass(frozen=True)
class LedgerAudit:
    """The books' check: the sum of all postings per currency (zero when they balance),
    and how many entries are unbalanced or have fewer than two postings (zero too)."""

    totals: dict[str, int]
    unbalanced_entries: int

    @property
    def is_balanced(self) -> bool:
        return self.unbalanced_entries == 0 and not any(self.totals.values())


def ledger_audit() -> LedgerAudit:
    """Sum the ledger (the database's triggers should make it always balance: this is the
    check that they did); an imbalance is logged as an error."""
    totals: dict[str, int] = defaultdict(int)
    for row in LedgerPosting.objects.values("currency").annotate(total=Sum("amount")).order_by():
        totals[row["currency"]] = int(row["total"])
    unbalanced = (
        LedgerPosting.objects.values("entry_id", "currency")
        .annotate(total=Sum("amount"))
        .exclude(total=0)
        .order_by()
        .count()
    )
    lonely = LedgerEntry.objects.annotate(count=Count("postings")).filter(count__lt=2).count()
    audit = LedgerAudit(totals=dict(totals), unbalanced_entries=unbalanced + lonely)
    if not audit.is_balanced:
        logger.error(
            "The ledger does not balance",
            extra={"totals": audit.totals, "unbalanced_entries": audit.unbalanced_entries},
        )
    return audit
