"""Creators' payout accounts: created at Stripe (Express) on the creator's request, their
onboarding links, and their status kept from Stripe's signed `account.updated` events.
Stripe calls are `core.stripe_api`'s; no row is locked across one."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Any

from django.conf import settings
from django.db import IntegrityError, transaction

from clipcart_shared.connect import payout_status_of
from clipcart_shared.errors import ApplicationError
from core import stripe_api
from core.errors import VideoErrorCode
from creators.models import Creator
from payouts.models import ConnectWebhookEvent, CreatorPayoutAccount

logger = logging.getLogger(__name__)


def creator_payout_account_onboard(*, creator: Creator) -> str:
    """The URL of a Stripe-hosted onboarding page of the creator's Express account, the
    account created first if they have none. Creating is keyed by the creator's id at
    Stripe, so a retried or concurrent request makes one account; the row is written
    after Stripe answered (no lock held across the call). Raises `stripe_api`'s errors
    (503 `payout_provider_unavailable`, 502 `payout_provider_rejected`)."""
    account = CreatorPayoutAccount.objects.filter(creator=creator).first()
    if account is None:
        stripe_account_id = stripe_api.express_account_create(
            creator_id=str(creator.id), user_id=creator.user_id
        )
        try:
            with transaction.atomic():
                account = CreatorPayoutAccount.objects.create(
                    creator=creator, stripe_account_id=stripe_account_id
                )
        except IntegrityError:
            # A concurrent request stored it (the same account, thanks to the key).
            account = CreatorPayoutAccount.objects.get(creator=creator)
        logger.info(
            "Creator payout account created",
            extra={"creator_id": str(creator.id), "stripe_account_id": account.stripe_account_id},
        )
    return stripe_api.onboarding_link_create(
        account_id=account.stripe_account_id,
        refresh_url=settings.CREATOR_PAYOUT_REFRESH_URL,
        return_url=settings.CREATOR_PAYOUT_RETURN_URL,
    )


@dataclass(frozen=True)
class ConnectEventAnswer:
    event_id: str
    is_duplicate: bool
    outcome: str
    reason: str = ""


def _invalid_event(detail: str) -> ApplicationError:
    return ApplicationError(VideoErrorCode.INVALID_EVENT, detail, status=400)


def _event_parts(event: Any) -> tuple[str, str, int, Any]:
    """(id, type, created, data.object) of a verified event; 400 `invalid_event` when it
    does not have Stripe's event shape."""
    if not isinstance(event, dict):
        raise _invalid_event("A Stripe event is a JSON object.")
    event_id, event_type, created = event.get("id"), event.get("type"), event.get("created", 0)
    if not isinstance(event_id, str) or not event_id or not isinstance(event_type, str):
        raise _invalid_event("A Stripe event has a string `id` and `type`.")
    if not isinstance(created, int) or isinstance(created, bool):
        raise _invalid_event("A Stripe event's `created` is a Unix time (an integer).")
    data = event.get("data")
    if not isinstance(data, dict) or not isinstance(data.get("object"), dict):
        raise _invalid_event("A Stripe event has `data.object`, an object.")
    return event_id, event_type, created, data["object"]


def connect_webhook_receive(*, payload: bytes, signature: str) -> ConnectEventAnswer:
    """Stripe's Connect webhook: verified on the raw body (400 `invalid_signature`,
    nothing written), checked for Stripe's event shape (400 `invalid_event`), logged by
    Stripe's id and applied once, in one transaction. `account.updated` of a creator's
    account sets its status (unless a newer event already did); any other type, and an
    account that is not a creator's (a merchant's, known to checkout), is ignored."""
    event = stripe_api.webhook_event_verify(payload=payload, signature=signature)
    event_id, event_type, created, obj = _event_parts(event)
    account_id = obj.get("id") if isinstance(obj.get("id"), str) else ""
    with transaction.atomic():
        logged, is_new = ConnectWebhookEvent.objects.get_or_create(
            event_id=event_id,
            defaults={"type": event_type, "stripe_account_id": account_id, "outcome": "received"},
        )
        if not is_new:
            return ConnectEventAnswer(event_id, True, logged.outcome, logged.reason)
        outcome, reason = _apply(event_type=event_type, created=created, obj=obj)
        logged.outcome, logged.reason = outcome, reason
        logged.save(update_fields=["outcome", "reason"])
    logger.info(
        "Stripe Connect event received",
        extra={
            "event_id": event_id,
            "event_type": event_type,
            "stripe_account_id": account_id,
            "outcome": outcome,
            "reason": reason,
        },
    )
    return ConnectEventAnswer(event_id, False, outcome, reason)


def _apply(*, event_type: str, created: int, obj: dict[str, Any]) -> tuple[str, str]:
    if event_type != "account.updated":
        return "ignored", f"{event_type} is not an account event"
    account = (
        CreatorPayoutAccount.objects.select_for_update()
        .filter(stripe_account_id=obj.get("id"))
        .first()
    )
    if account is None:
        return "ignored", "not a creator's account"
    if created < account.status_event_created:
        return "ignored", "older than the status already applied"
    account.status = payout_status_of(obj)
    account.status_event_created = created
    account.save(update_fields=["status", "status_event_created", "updated_at"])
    return "processed", ""
