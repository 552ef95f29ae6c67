"""Every call to Stripe, in one place. With real keys it talks to Stripe; in the embedded
run `STRIPE_API_BASE` points it at the localstripe emulator. Nothing here relies on the
emulator's quirks: every create call carries an idempotency key derived from our ids (the
emulator ignores them; Stripe honours them), and amounts come from our own orders."""

from __future__ import annotations

import json
import logging
from functools import cache
from typing import Any

import stripe
from django.conf import settings

from clipcart_shared.errors import ApplicationError
from core.errors import CheckoutErrorCode

logger = logging.getLogger(__name__)


class PaymentProviderUnavailable(ApplicationError):
    """Stripe could not be reached or failed on its side: worth retrying later (503
    `payment_provider_unavailable`)."""

    def __init__(self, message: str) -> None:
        super().__init__(CheckoutErrorCode.PAYMENT_PROVIDER_UNAVAILABLE, message, status=503)


class PaymentProviderRejected(ApplicationError):
    """Stripe refused the request (bad state, bad parameters): retrying will not help
    (502 `payment_provider_rejected`). `stripe_code` and `stripe_status` are Stripe's own
    answer (its error code, its HTTP status)."""

    def __init__(
        self, message: str, *, stripe_code: str | None = None, stripe_status: int = 0
    ) -> None:
        super().__init__(CheckoutErrorCode.PAYMENT_PROVIDER_REJECTED, message, status=502)
        self.stripe_code = stripe_code
        self.stripe_status = stripe_status

    @property
    def is_missing(self) -> bool:
        """An object named in the request does not exist (Stripe: `resource_missing`; the
        emulator answers a bare 404)."""
        return self.stripe_code == "resource_missing" or self.stripe_status == 404


class InvalidSignature(ApplicationError):
    """A webhook whose signature does not verify with any configured secret (400
    `invalid_signature`, nothing written)."""

    def __init__(self, message: str) -> None:
        super().__init__(CheckoutErrorCode.INVALID_SIGNATURE, message, status=400)


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
        raise PaymentProviderUnavailable(str(error)) from error
    except stripe.StripeError as error:
        status = getattr(error, "http_status", None) or 0
        if status >= 500 or isinstance(error, stripe.APIError):
            logger.warning("Stripe failed", extra={"operation": operation, "status": status})
            raise PaymentProviderUnavailable(str(error)) from error
        logger.info("Stripe refused", extra={"operation": operation, "status": status})
        raise PaymentProviderRejected(
            str(error), stripe_code=getattr(error, "code", None), stripe_status=status
        ) from error


def customer_create(*, user_id: str, email: str, replacing: str | None = None) -> str:
    """A Stripe customer for the user (one per user, thanks to the key; a new one when
    `replacing` a customer Stripe no longer has)."""
    key = f"clipcart-customer-{user_id}" + (f"-after-{replacing}" if replacing else "")
    customer = _call(
        "customer.create",
        client().v1.customers.create,
        {"email": email, "metadata": {"user_id": user_id}},
        {"idempotency_key": key},
    )
    return str(customer.id)


# Stripe's smallest charge per currency, in minor units (its "minimum and maximum charge
# amounts"); a currency not listed must be at least 1. No charge may have more than eight
# digits.
MINIMUM_CHARGE = {
    "usd": 50, "eur": 50, "gbp": 30, "aud": 50, "cad": 50, "chf": 50, "nzd": 50, "sgd": 50,
    "brl": 50, "inr": 50, "jpy": 50, "dkk": 250, "nok": 300, "sek": 300, "pln": 200,
    "czk": 1500, "huf": 17500, "hkd": 400, "mxn": 1000, "aed": 200, "bgn": 100, "ron": 200,
    "myr": 200, "thb": 1000,
}  # fmt: skip
MAXIMUM_CHARGE = 99_999_999


def charge_amount_check(*, amount: int, currency: str) -> None:
    """422 `amount_too_small` / `amount_too_large` for a total Stripe would refuse to
    charge, before anything is reserved or asked of Stripe."""
    minimum = MINIMUM_CHARGE.get(currency.lower(), 1)
    if amount < minimum:
        raise ApplicationError(
            CheckoutErrorCode.AMOUNT_TOO_SMALL,
            f"A payment in {currency.upper()} must be at least {minimum} (minor units); "
            f"this order comes to {amount}.",
            status=422,
        )
    if amount > MAXIMUM_CHARGE:
        raise ApplicationError(
            CheckoutErrorCode.AMOUNT_TOO_LARGE,
            f"A payment can be at most {MAXIMUM_CHARGE} (minor units); this order comes to "
            f"{amount}. Split it into smaller orders.",
            status=422,
        )


def payment_intent_create(
    *, order_id: str, amount: int, currency: str, customer_id: str
) -> tuple[str, str]:
    """The order's PaymentIntent: (id, client_secret). One per order: the idempotency key
    is the order's id, so a retried checkout never charges twice. Its `transfer_group` is
    the order's id too: the transfers to the order's merchants (separate charges and
    transfers) are grouped with the charge at Stripe."""
    intent = _call(
        "payment_intent.create",
        client().v1.payment_intents.create,
        {
            "amount": amount,
            "currency": currency.lower(),
            "customer": customer_id,
            "payment_method_types": ["card"],
            "metadata": {"order_id": order_id},
            "transfer_group": order_id,
        },
        {"idempotency_key": f"clipcart-payment-intent-{order_id}"},
    )
    return str(intent.id), str(intent.client_secret)


def payment_intent_retrieve(*, payment_intent_id: str) -> dict[str, Any]:
    intent = _call(
        "payment_intent.retrieve", client().v1.payment_intents.retrieve, payment_intent_id
    )
    return dict(intent.to_dict())


def payment_intent_cancel(*, payment_intent_id: str) -> dict[str, Any]:
    """Cancel an unpaid PaymentIntent; raises PaymentProviderRejected if it cannot be
    cancelled any more (for instance because it succeeded meanwhile)."""
    intent = _call(
        "payment_intent.cancel",
        client().v1.payment_intents.cancel,
        payment_intent_id,
        {},
        {"idempotency_key": f"clipcart-cancel-{payment_intent_id}"},
    )
    return dict(intent.to_dict())


def refund_create(*, payment_intent_id: str, amount: int, refund_key: str) -> str:
    """Give `amount` back; `refund_key` (our refund's id) makes a retry refund once."""
    refund = _call(
        "refund.create",
        client().v1.refunds.create,
        {"payment_intent": payment_intent_id, "amount": amount},
        {"idempotency_key": f"clipcart-refund-{refund_key}"},
    )
    return str(refund.id)


def mobile_customer_key(*, customer_id: str) -> dict[str, str | None]:
    """What the mobile payment sheet needs to offer the customer's saved cards."""
    mode = settings.STRIPE_MOBILE_CUSTOMER_KEY
    keys: dict[str, str | None] = {"customer_session_client_secret": None, "ephemeral_key": None}
    if mode == "customer_session":
        session = _call(
            "customer_session.create",
            client().v1.customer_sessions.create,
            {"customer": customer_id, "components": {"mobile_payment_element": {"enabled": True}}},
        )
        keys["customer_session_client_secret"] = str(session.client_secret)
    elif mode == "ephemeral_key":
        key = _call(
            "ephemeral_key.create",
            client().v1.ephemeral_keys.create,
            {"customer": customer_id},
            {"stripe_version": stripe.api_version},
        )
        keys["ephemeral_key"] = str(key.secret)
    return keys


def express_account_create(*, merchant_id: str, created_by: str) -> str:
    """The merchant's Express account, able to receive transfers; its id. One per
    merchant: the idempotency key is the merchant's id, so a retried or concurrent set-up
    gets the same account."""
    account = _call(
        "account.create",
        client().v1.accounts.create,
        {
            "type": "express",
            "capabilities": {"transfers": {"requested": True}},
            "metadata": {"merchant_id": merchant_id, "created_by": created_by},
        },
        {"idempotency_key": f"clipcart-merchant-account-{merchant_id}"},
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


def transfer_create(
    *,
    transfer_key: str,
    amount: int,
    currency: str,
    destination: str,
    transfer_group: str,
    metadata: dict[str, str],
) -> str:
    """Send `amount` of the platform's balance to a connected account (separate charges
    and transfers); its id. `transfer_key` (our batch row's) makes a retry, after a
    timeout as after a crash, transfer once. No `source_transaction`: a batch gathers
    many orders' charges, so it is paid from the available balance (ADR 38)."""
    params: dict[str, Any] = {
        "amount": amount,
        "currency": currency.lower(),
        "destination": destination,
        "transfer_group": transfer_group,
        "metadata": metadata,
    }
    transfer = _call(
        "transfer.create",
        client().v1.transfers.create,
        params,
        {"idempotency_key": f"clipcart-transfer-{transfer_key}"},
    )
    return str(transfer.id)


def transfer_reversal_create(
    *, transfer_id: str, amount: int, reversal_key: str, metadata: dict[str, str]
) -> str:
    """Take `amount` of a transfer back from its connected account; its id. Keyed by our
    reversal row's id, so a retry reverses once."""
    reversal = _call(
        "transfer_reversal.create",
        client().v1.transfers.reversals.create,
        transfer_id,
        {"amount": amount, "metadata": metadata},
        {"idempotency_key": f"clipcart-transfer-reversal-{reversal_key}"},
    )
    return str(reversal.id)


def webhook_event_verify(*, payload: bytes, signature: str) -> dict[str, Any]:
    """The event, if its signature verifies with one of the configured secrets (within
    Stripe's tolerance) on the raw body; InvalidSignature otherwise."""
    for secret in settings.STRIPE_WEBHOOK_SECRETS:
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
            event: dict[str, Any] = json.loads(payload)
        except ValueError as error:
            raise InvalidSignature("The signed body is not a JSON event.") from error
        return event
    raise InvalidSignature("The Stripe-Signature header does not verify.")
