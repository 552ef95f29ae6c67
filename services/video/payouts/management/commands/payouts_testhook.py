"""Tests only: payouts' state as other services' tests set it up (`manage.py
payouts_testhook <hook> '<JSON>'`; clipcart_shared.testhook). Refused under production
settings."""

from __future__ import annotations

from clipcart_shared.testhook import HookCommand
from payouts.batches import settled_commission_freeze as _freeze


def settled_commission_freeze() -> dict:
    """What a payout run does first: each credit of a line that settled becomes an entry
    of its creator's balance (ADR 33); nothing is paid."""
    return {"frozen": _freeze()}


class Command(HookCommand):
    hooks = {"settled_commission_freeze": settled_commission_freeze}
