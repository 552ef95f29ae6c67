"""Reads of the webhook log, and of what merchants are owed and were transferred."""

from __future__ import annotations

import uuid
from datetime import timedelta
from typing import Any

from django.db.models import Count, Q, Sum
from django.utils import timezone

from payments.models import LedgerAccount, LedgerPosting, MerchantTransfer, WebhookEvent


def webhook_events_waiting(
    *, older_than: timedelta, excluded: list[str], limit: int = 500
) -> list[str]:
    """Ids of logged events still waiting to be applied, received more than `older_than`
    ago, oldest first (not those in `excluded`)."""
    return list(
        WebhookEvent.objects.filter(
            status=WebhookEvent.Status.RECEIVED, received_at__lt=timezone.now() - older_than
        )
        .exclude(event_id__in=excluded)
        .order_by("received_at", "id")
        .values_list("event_id", flat=True)[:limit]
    )


def merchant_money_out(*, merchant_ids: list[uuid.UUID] | None) -> list[dict[str, Any]]:
    """Per merchant (of `merchant_ids`; None: all) and currency, from the ledger and the
    transfers (two queries): `pending` (paid parts not settled yet), `payable` (settled,
    not transferred yet; negative while a reversal is on its way), `upcoming` (the
    transfers waiting for an enabled account or being sent, and how many), `transferred`
    (sent, less reversals)."""
    postings = LedgerPosting.objects.filter(
        account__in=[LedgerAccount.MERCHANT_PENDING, LedgerAccount.MERCHANT_PAYABLE]
    )
    transfers = MerchantTransfer.objects.all()
    if merchant_ids is not None:
        postings = postings.filter(merchant_id__in=merchant_ids)
        transfers = transfers.filter(merchant_id__in=merchant_ids)
    rows: dict[tuple[uuid.UUID, str], dict[str, Any]] = {}

    def row(merchant_id: uuid.UUID, currency: str) -> dict[str, Any]:
        return rows.setdefault(
            (merchant_id, currency),
            {
                "merchant_id": merchant_id,
                "currency": currency,
                "pending": 0,
                "payable": 0,
                "upcoming": 0,
                "upcoming_count": 0,
                "transferred": 0,
            },
        )

    for balance in (
        postings.values("merchant_id", "currency", "account")
        .annotate(total=Sum("amount"))
        .order_by()
    ):
        field = "pending" if balance["account"] == LedgerAccount.MERCHANT_PENDING else "payable"
        # Owed to the merchant: a credit balance, shown positive.
        row(balance["merchant_id"], balance["currency"])[field] = -int(balance["total"])
    unsent = [MerchantTransfer.Status.WAITING, MerchantTransfer.Status.SENDING]
    for sums in (
        transfers.values("merchant_id", "currency")
        .annotate(
            upcoming=Sum("amount", filter=Q(status__in=unsent)),
            upcoming_count=Count("id", filter=Q(status__in=unsent)),
            sent=Sum("amount", filter=Q(status=MerchantTransfer.Status.SENT)),
            reversed=Sum("reversed_amount"),
        )
        .order_by()
    ):
        found = row(sums["merchant_id"], sums["currency"])
        found["upcoming"] = int(sums["upcoming"] or 0)
        found["upcoming_count"] = int(sums["upcoming_count"] or 0)
        found["transferred"] = int(sums["sent"] or 0) - int(sums["reversed"] or 0)
    return [rows[key] for key in sorted(rows, key=lambda key: (str(key[0]), key[1]))]
