"""Merchants' payout accounts (Stripe Connect, Express): created at Stripe when merchant
staff set up payouts in the admin, their onboarding links, and their status kept from
Stripe's `account.updated` events (received through the one signed Stripe webhook, which
`orders.services.stripe_events` routes here). Knows no orders; no row is locked across a
Stripe call."""

from __future__ import annotations

import logging
import uuid
from typing import Any

from django.db import IntegrityError, transaction

from clipcart_shared.connect import payout_status_of
from payments import stripe_api
from payments.models import MerchantPayoutAccount

logger = logging.getLogger(__name__)

# The Stripe event types about connected accounts that checkout applies.
ACCOUNT_EVENT_TYPES = frozenset({"account.updated"})


def merchant_payout_account_onboard(
    *, merchant_id: uuid.UUID, created_by: str, refresh_url: str, return_url: str
) -> str:
    """The URL of a Stripe-hosted onboarding page of the merchant's Express account, the
    account created first if it has none (keyed by the merchant's id at Stripe, so a
    retried or concurrent set-up makes one account; the row is written after Stripe
    answered). Who may do this for which merchant is the admin's to check. Raises
    `stripe_api`'s errors."""
    account = MerchantPayoutAccount.objects.filter(merchant_id=merchant_id).first()
    if account is None:
        stripe_account_id = stripe_api.express_account_create(
            merchant_id=str(merchant_id), created_by=created_by
        )
        try:
            with transaction.atomic():
                account = MerchantPayoutAccount.objects.create(
                    merchant_id=merchant_id,
                    stripe_account_id=stripe_account_id,
                    created_by=created_by,
                )
        except IntegrityError:
            account = MerchantPayoutAccount.objects.get(merchant_id=merchant_id)
        logger.info(
            "Merchant payout account created",
            extra={
                "merchant_id": str(merchant_id),
                "stripe_account_id": account.stripe_account_id,
                "created_by": created_by,
            },
        )
    return stripe_api.onboarding_link_create(
        account_id=account.stripe_account_id, refresh_url=refresh_url, return_url=return_url
    )


def merchant_payout_account_updated(*, created: int, account: Any) -> tuple[str, str]:
    """Apply an `account.updated` event's Account to the merchant's payout account:
    (`processed`, "") when its status was set, (`ignored`, why) for an account that is not
    a merchant's (a creator's, known to video), or an event older than the status."""
    if not isinstance(account, dict) or not isinstance(account.get("id"), str):
        return "ignored", "the event has no account"
    with transaction.atomic():
        row = (
            MerchantPayoutAccount.objects.select_for_update()
            .filter(stripe_account_id=account["id"])
            .first()
        )
        if row is None:
            return "ignored", "not a merchant's account"
        if created < row.status_event_created:
            return "ignored", "older than the status already applied"
        row.status = payout_status_of(account)
        row.status_event_created = created
        row.save(update_fields=["status", "status_event_created", "updated_at"])
    return "processed", ""
