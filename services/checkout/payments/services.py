"""Stripe's side of checkout, knowing no orders: the buyer's Stripe customer, the
PaymentIntent, and the webhook log (events verified and logged by Stripe's id, claimed
and settled by whoever applies them — orders' worker)."""

from __future__ import annotations

import json
import logging
from datetime import timedelta

from django.db import IntegrityError, connection, transaction
from django.utils import timezone

from payments import stripe_api
from payments.models import StripeCustomer, WebhookEvent

logger = logging.getLogger(__name__)

_LOG_ONCE = f"""
INSERT INTO {WebhookEvent._meta.db_table} (event_id, type, payload, status, error, received_at)
VALUES (%s, %s, %s::jsonb, 'received', '', now())
ON CONFLICT (event_id) DO NOTHING
RETURNING id
"""

# How long a claimed event is left to its applier before another may take it (longer
# than the applying task's time limit: an applier still running is never overtaken).
WEBHOOK_APPLY_LEASE = timedelta(seconds=150)


def webhook_receive(*, payload: bytes, signature: str) -> tuple[str, bool]:
    """Verify the signature on the raw body and log the event by Stripe's id. Returns
    (event id, whether it is new). 400 `invalid_signature` (`stripe_api.InvalidSignature`)
    with nothing written."""
    event = stripe_api.webhook_event_verify(payload=payload, signature=signature)
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(_LOG_ONCE, [event["id"], event["type"], json.dumps(event)])
        is_new = cursor.fetchone() is not None
    return event["id"], is_new


def webhook_event_claim(*, event_id: str) -> tuple[str, WebhookEvent | None]:
    """Take a logged event to apply it, in one short transaction: (its status, the event)
    when it waits and nobody else is applying it; (its status, None) otherwise — settled
    already, or claimed by another applier less than `WEBHOOK_APPLY_LEASE` ago. The row is
    not kept locked while the event is applied."""
    with transaction.atomic():
        logged = WebhookEvent.objects.select_for_update().get(event_id=event_id)
        if logged.status != WebhookEvent.Status.RECEIVED:
            return logged.status, None
        now = timezone.now()
        if logged.applying_since and logged.applying_since > now - WEBHOOK_APPLY_LEASE:
            return logged.status, None
        logged.applying_since = now
        logged.save(update_fields=["applying_since"])
    return logged.status, logged


def webhook_event_settle(*, event_id: str, status: str, reason: str) -> None:
    """Record what became of a claimed event (`processed`, `ignored`, `mismatch`), once."""
    WebhookEvent.objects.filter(event_id=event_id, status=WebhookEvent.Status.RECEIVED).update(
        status=status, error=reason, processed_at=timezone.now(), applying_since=None
    )


def webhook_event_unclaim(*, event_id: str) -> None:
    """Applying failed (it will be retried): the event waits again for the next attempt."""
    WebhookEvent.objects.filter(event_id=event_id, status=WebhookEvent.Status.RECEIVED).update(
        applying_since=None
    )


def stripe_customer_for_user(*, user_id: str, email: str, replacing: str | None = None) -> str:
    """The user's Stripe customer: the stored one, or a new one (also when `replacing`,
    the stored one, no longer exists on Stripe's side)."""
    known = StripeCustomer.objects.filter(user_id=user_id).values_list("customer_id", flat=True)
    if known and known[0] != replacing:
        return known[0]
    customer_id = stripe_api.customer_create(user_id=user_id, email=email, replacing=replacing)
    try:
        with transaction.atomic():
            StripeCustomer.objects.update_or_create(
                user_id=user_id, defaults={"customer_id": customer_id}
            )
    except IntegrityError:
        pass  # a concurrent checkout of the same user stored it (the same customer)
    return customer_id


def payment_intent_for_checkout(
    *, checkout_id: str, amount: int, currency: str, user_id: str, email: str
) -> tuple[str, str, str]:
    """(PaymentIntent id, client secret, customer id) of one checkout, keyed by its id. A
    stored customer that Stripe no longer knows (deleted in the dashboard; the emulator
    restarted) is replaced once. Raises `stripe_api`'s errors."""
    customer_id = stripe_customer_for_user(user_id=user_id, email=email)
    try:
        payment_intent_id, client_secret = stripe_api.payment_intent_create(
            order_id=checkout_id, amount=amount, currency=currency, customer_id=customer_id
        )
    except stripe_api.PaymentProviderRejected as error:
        if not error.is_missing:
            raise
        logger.warning("Stripe customer gone; creating another", extra={"customer": customer_id})
        customer_id = stripe_customer_for_user(user_id=user_id, email=email, replacing=customer_id)
        payment_intent_id, client_secret = stripe_api.payment_intent_create(
            order_id=checkout_id, amount=amount, currency=currency, customer_id=customer_id
        )
    return payment_intent_id, client_secret, customer_id
