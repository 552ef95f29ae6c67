"""Every call the video service makes to Stripe, in one place: creators' Connect accounts
(Express), their onboarding links, their payouts (transfers), and the verification of
Stripe's signed Connect webhook. With real keys it talks to Stripe; in the embedded run
`STRIPE_API_BASE` points it at the localstripe emulator. Nothing here relies on the
emulator's quirks: every create call carries an idempotency key derived from our ids, and
the same code runs against Stripe's test keys (checkout's `payments/stripe_api.py` is the
model)."""

from __future__ import annotations

import json
import logging
from functools import cache
from typing import Any

import stripe
from django.conf import settings

from clipcart_shared.errors import ApplicationError
from core.errors import VideoErrorCode

logger = logging.getLogger(__name__)


class PayoutProviderUnavailable(ApplicationError):
    """Stripe could not be reached or failed on its side: worth retrying later (503
    `payout_provider_unavailable`)."""

    def __init__(self, message: str) -> None:
        super().__init__(VideoErrorCode.PAYOUT_PROVIDER_UNAVAILABLE, message, status=503)


class PayoutProviderRejected(ApplicationError):
    """Stripe refused the request: retrying will not help (502 `payout_provider_rejected`).
    `stripe_code` and `stripe_status` are Stripe's own answer."""

    def __init__(
        self, message: str, *, stripe_code: str | None = None, stripe_status: int = 0
    ) -> None:
        super().__init__(VideoErrorCode.PAYOUT_PROVIDER_REJECTED, message, status=502)
        self.stripe_code = stripe_code
        self.stripe_status = stripe_status


class InvalidSignature(ApplicationError):
    """A webhook whose signature does not verify with any configured secret (400
    `invalid_signature`, nothing written)."""

    def __init__(self, message: str) -> None:
        super().__init__(VideoErrorCode.INVALID_SIGNATURE, message, status=400)


@cache
def _client(api_key: str, api_base: str) -> stripe.StripeClient:
    return stripe.StripeClient(
        api_key,
        base_addresses={"api": api_base} if api_base else None,
        max_network_retries=2,
        http_client=stripe.RequestsClient(timeout=settings.STRIPE_TIMEOUT_SECONDS),
    )


def client() -> stripe.StripeClient:
    return _client(settings.STRIPE_SECRET_KEY, settings.STRIPE_API_BASE)


def _call(operation: str, function: Any, *args: Any, **kwargs: Any) -> Any:
    """Run one Stripe call, sorting failures into retryable and final."""
    try:
        return function(*args, **kwargs)
    except (stripe.APIConnectionError, stripe.RateLimitError) as error:
        logger.warning("Stripe unreachable", extra={"operation": operation, "error": str(error)})
        raise PayoutProviderUnavailable(str(error)) from error
    except stripe.StripeError as error:
        status = getattr(error, "http_status", None) or 0
        if status >= 500 or isinstance(error, stripe.APIError):
            logger.warning("Stripe failed", extra={"operation": operation, "status": status})
            raise PayoutProviderUnavailable(str(error)) from error
        logger.info("Stripe refused", extra={"operation": operation, "status": status})
        raise PayoutProviderRejected(
            str(error), stripe_code=getattr(error, "code", None), stripe_status=status
        ) from error


def express_account_create(*, creator_id: str, user_id: str) -> str:
    """The creator's Express account, able to receive transfers; its id. One per creator:
    the idempotency key is the creator's id, so a retried or concurrent request gets the
    same account."""
    account = _call(
        "account.create",
        client().v1.accounts.create,
        {
            "type": "express",
            "capabilities": {"transfers": {"requested": True}},
            "metadata": {"creator_id": creator_id, "user_id": user_id},
        },
        {"idempotency_key": f"clipcart-creator-account-{creator_id}"},
    )
    return str(account.id)


def onboarding_link_create(*, account_id: str, refresh_url: str, return_url: str) -> str:
    """A fresh Stripe-hosted onboarding link of the account (it works once and expires in
    minutes, so it is never stored); its URL."""
    link = _call(
        "account_link.create",
        client().v1.account_links.create,
        {
            "account": account_id,
            "type": "account_onboarding",
            "refresh_url": refresh_url,
            "return_url": return_url,
        },
    )
    return str(link.url)


def payout_transfer_create(
    *, payout_key: str, amount: int, currency: str, destination: str, metadata: dict[str, str]
) -> str:
    """Send a creator's payout from the platform's balance to their connected account;
    the transfer's id. `payout_key` (our payout row's id) makes a retry, after a timeout
    as after a crash, transfer once. No `source_transaction`: a payout gathers many
    orders' commission, paid from the platform's available balance."""
    transfer = _call(
        "transfer.create",
        client().v1.transfers.create,
        {
            "amount": amount,
            "currency": currency.lower(),
            "destination": destination,
            "transfer_group": f"creator-payout-{payout_key}",
            "metadata": metadata,
        },
        {"idempotency_key": f"clipcart-creator-payout-{payout_key}"},
    )
    return str(transfer.id)


def webhook_event_verify(*, payload: bytes, signature: str) -> Any:
    """The decoded event, if its signature verifies with one of
    `VIDEO_STRIPE_WEBHOOK_SECRETS` (within Stripe's tolerance) on the raw body;
    InvalidSignature otherwise. What the JSON holds is the caller's to check."""
    for secret in settings.VIDEO_STRIPE_WEBHOOK_SECRETS:
        try:
            stripe.WebhookSignature.verify_header(
                payload.decode("utf-8"),
                signature,
                secret,
                tolerance=settings.STRIPE_WEBHOOK_TOLERANCE_SECONDS,
            )
        except (stripe.SignatureVerificationError, UnicodeDecodeError, ValueError):
            continue
        try:
            return json.loads(payload)
        except ValueError as error:
            raise InvalidSignature("The signed body is not a JSON event.") from error
    raise InvalidSignature("The Stripe-Signature header does not verify.")
