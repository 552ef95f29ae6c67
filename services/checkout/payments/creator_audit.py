"""The creators' two records compared (ADR 38): what checkout's ledger says the platform
owes creators — the credit balance of `creator_commission_payable` per merchant and
currency, which the settlements credit and refunds and video's recorded payouts debit —
against video's creator balances per merchant and currency (asked through its internal
API; no service reads another's tables). Both as of `before` (now less
`CREATOR_BALANCE_AUDIT_GRACE_SECONDS`): the two settle a sale at different moments
(video per line, checkout per merchant part), so only what is older than that is
compared. A difference is logged as an error and shown to platform staff."""

from __future__ import annotations

import logging
import uuid
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from django.conf import settings
from django.db.models import Sum
from django.utils import timezone

from core import video
from payments.models import LedgerAccount, LedgerPosting

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class CreatorBalanceAudit:
    before: datetime
    # [{merchant_id, currency, checkout, video}] where the two records differ.
    differences: list[dict[str, object]] = field(default_factory=list)
    # Why video's side could not be read (then nothing was compared).
    unavailable: str = ""

    @property
    def is_matching(self) -> bool:
        return not self.differences and not self.unavailable


def owed_to_creators(*, before: datetime) -> dict[tuple[uuid.UUID, str], int]:
    """{(merchant, currency): owed to creators} from the ledger's entries before
    `before` (the account's credit balance, shown positive). One query."""
    rows = (
        LedgerPosting.objects.filter(
            account=LedgerAccount.CREATOR_COMMISSION_PAYABLE, entry__created_at__lt=before
        )
        .values("merchant_id", "currency")
        .annotate(total=Sum("amount"))
        .order_by()
    )
    return {(row["merchant_id"], row["currency"]): -int(row["total"]) for row in rows}


def creator_balances_audit(*, now: datetime | None = None) -> CreatorBalanceAudit:
    """Compare the two records; an error is logged for each difference (a warning when
    video cannot answer: the next audit tries again)."""
    now = now or timezone.now()
    before = now - timedelta(seconds=settings.CREATOR_BALANCE_AUDIT_GRACE_SECONDS)
    try:
        answered = video.creator_balances(before=before)
    except video.VideoUnavailable as error:
        logger.warning(
            "Creator balances not audited: video unavailable", extra={"error": str(error)}
        )
        return CreatorBalanceAudit(before=before, unavailable=str(error) or "unavailable")
    theirs = {
        (uuid.UUID(str(row["merchant_id"])), str(row["currency"]).upper()): int(row["amount"])
        for row in answered
    }
    ours = owed_to_creators(before=before)
    differences = [
        {
            "merchant_id": str(merchant),
            "currency": currency,
            "checkout": ours.get((merchant, currency), 0),
            "video": theirs.get((merchant, currency), 0),
        }
        for merchant, currency in sorted(set(ours) | set(theirs), key=lambda k: (str(k[0]), k[1]))
        if ours.get((merchant, currency), 0) != theirs.get((merchant, currency), 0)
    ]
    audit = CreatorBalanceAudit(before=before, differences=differences)
    for difference in differences:
        logger.error(
            "Creator balances differ between checkout's ledger and video", extra=difference
        )
    return audit
