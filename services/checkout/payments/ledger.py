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
from dataclasses import dataclass
from datetime import datetime

from django.db import IntegrityError, connection, transaction
from django.db.models import Sum

from payments.models import LedgerEntry, LedgerPosting, MerchantTransfer

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


# One `transfer` entry per part a sent batch carried (`transfer:<part id>`, its order):
# the merchant's payable debited, the platform's cash credited; parts posted before (a
# second call) are left out. Three set-based steps in one statement.
_BATCH_TRANSFER_ENTRIES = f"""
WITH parts AS MATERIALIZED (
    SELECT nextval(pg_get_serial_sequence('{LedgerEntry._meta.db_table}', 'id')) AS entry_id,
           t.id, t.order_id, t.merchant_id, t.currency, t.amount, t.stripe_transfer_id
    FROM {MerchantTransfer._meta.db_table} t
    WHERE t.batch_transfer_id = %(batch)s AND t.amount > 0
      AND NOT EXISTS (
          SELECT 1 FROM {LedgerEntry._meta.db_table} e WHERE e.source_key = 'transfer:' || t.id
      )
), entries AS (
    INSERT INTO {LedgerEntry._meta.db_table} (id, kind, source_key, order_id, memo, created_at)
    SELECT entry_id, 'transfer', 'transfer:' || id, order_id,
           'transfer ' || stripe_transfer_id, %(at)s
    FROM parts
)
INSERT INTO {LedgerPosting._meta.db_table} (entry_id, account, merchant_id, currency, amount)
SELECT p.entry_id, a.account,
       CASE WHEN a.account = 'platform_cash' THEN NULL ELSE p.merchant_id END,
       upper(p.currency),
       CASE WHEN a.account = 'platform_cash' THEN -p.amount ELSE p.amount END
FROM parts p
CROSS JOIN (VALUES ('merchant_payable'), ('platform_cash')) a(account)
"""


def batch_transfers_post(*, batch_id: uuid.UUID, at: datetime) -> int:
    """Post, in the caller's transaction, the transfer of every part the sent batch
    carried (ADR 38), set-based whatever the number of parts; how many postings were
    written (two per part). The database checks each entry balances, as `entry_post`'s."""
    with connection.cursor() as cursor:
        cursor.execute(_BATCH_TRANSFER_ENTRIES, {"batch": batch_id, "at": at})
        written = cursor.rowcount
        cursor.execute(f"SET CONSTRAINTS {BALANCE_TRIGGER} IMMEDIATE")
        cursor.execute(f"SET CONSTRAINTS {BALANCE_TRIGGER} DEFERRED")
    logger.info(
        "Batch transfer entries posted", extra={"batch_id": str(batch_id), "postings": written}
    )
    return written


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


# Per (entry, currency): the sum of its postings; an entry without postings is one row
# with no currency. An entry is off when a currency's sum is not zero, or it has none
# (a single posting is never zero, so it shows as a sum that is not zero).
_AUDIT = f"""
WITH per_entry AS (
    SELECT entry.id, posting.currency, coalesce(sum(posting.amount), 0) AS total,
           count(posting.id) AS postings
    FROM {LedgerEntry._meta.db_table} entry
    LEFT JOIN {LedgerPosting._meta.db_table} posting ON posting.entry_id = entry.id
    GROUP BY entry.id, posting.currency
)
SELECT currency, sum(total), count(*) FILTER (WHERE total <> 0 OR postings = 0)
FROM per_entry GROUP BY currency
"""


def ledger_audit() -> LedgerAudit:
    """Sum the ledger in one query (the database's triggers should make it always
    balance: this is the check that they did); an imbalance is logged as an error."""
    totals: dict[str, int] = {}
    unbalanced = 0
    with connection.cursor() as cursor:
        cursor.execute(_AUDIT)
        for currency, total, off in cursor.fetchall():
            if currency is not None:
                totals[currency] = int(total)
            unbalanced += int(off)
    audit = LedgerAudit(totals=totals, unbalanced_entries=unbalanced)
    if not audit.is_balanced:
        logger.error(
            "The ledger does not balance",
            extra={"totals": audit.totals, "unbalanced_entries": audit.unbalanced_entries},
        )
    return audit
