"""Reads of creators' payout accounts."""

from __future__ import annotations

from typing import Any

from clipcart_shared.connect import PayoutStatus
from creators.models import Creator
from payouts.models import CreatorPayoutAccount


def creator_payout_account_render(*, creator: Creator) -> dict[str, Any]:
    """`{status, updated_at}` of the creator's payout account; `none` (and no date) when
    they have not started setting one up."""
    account = CreatorPayoutAccount.objects.filter(creator=creator).first()
    if account is None:
        return {"status": PayoutStatus.NONE.value, "updated_at": None}
    return {"status": account.status, "updated_at": account.updated_at}
