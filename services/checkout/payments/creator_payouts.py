"""Creators' payouts in checkout's ledger. Video makes them (it holds creators' accounts
and their per-creator commission, ADR 27 and 99) and tells checkout once Stripe sent
each, so that the books show the platform's cash going out and the commission owed to
creators, per merchant whose sales it came from, coming down."""

from __future__ import annotations

import uuid

from django.db import transaction

from clipcart_shared.errors import ApplicationError
from core.errors import CheckoutErrorCode
from payments.ledger import Posting, entry_post
from payments.models import LedgerAccount, LedgerEntry


def creator_payout_post(
    *,
    payout_id: uuid.UUID,
    currency: str,
    amount: int,
    stripe_transfer_id: str,
    merchants: list[tuple[uuid.UUID, int]],
) -> bool:
    """Post one creator payout, once (`creator_payout:<payout id>`); whether it was posted
    now. The merchants' shares (one may be negative: a clawback of that merchant's sale
    netted against another's commission) must add up to the amount (422
    `payout_shares_mismatch` otherwise, nothing posted)."""
    if sum(share for _, share in merchants) != amount or amount <= 0:
        raise ApplicationError(
            CheckoutErrorCode.PAYOUT_SHARES_MISMATCH,
            "The merchants' shares must add up to the payout's amount, which is positive.",
            status=422,
        )
    with transaction.atomic():
        entry = entry_post(
            kind=LedgerEntry.Kind.CREATOR_PAYOUT,
            source_key=f"creator_payout:{payout_id}",
            currency=currency,
            postings=[
                *(
                    Posting(LedgerAccount.CREATOR_COMMISSION_PAYABLE, share, merchant_id)
                    for merchant_id, share in merchants
                ),
                Posting(LedgerAccount.PLATFORM_CASH, -amount),
            ],
            memo=f"creator payout {stripe_transfer_id}",
        )
    return entry is not None
