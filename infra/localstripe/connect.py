"""Stripe Connect for the localstripe emulator: Express accounts, account links, transfers,
transfer reversals, the platform's and connected accounts' balances, `account.updated`.

localstripe has no Connect. This module adds the objects clipcart uses, in Stripe's
documented shapes and errors, to localstripe's aiohttp app (``install(server.app)``, before
it starts). What it does and does not emulate is in NOTES.md ("Connect").

Routes under ``/_config/`` are emulator-only (no API key, not Stripe's API): completing an
account link as the account holder would, and restricting an account.
"""

from __future__ import annotations

import re
from collections.abc import Awaitable, Callable
from typing import Any

from aiohttp import web
from localstripe.errors import UserError
from localstripe.resources import (
    Charge,
    Event,
    Refund,
    StripeObject,
    random_id,
    store,
)
from localstripe.server import json_response
from localstripe.webhooks import schedule_webhook

LINK_LIFETIME = 300  # seconds; Stripe's account links expire a few minutes after creation
ONBOARDING_DUE = ["business_type", "external_account", "tos_acceptance.date", "tos_acceptance.ip"]
CURRENCY_OF_COUNTRY = {"US": "usd", "GB": "gbp", "CH": "chf", "SE": "sek", "DK": "dkk"}
CAPABILITIES = ("transfers", "card_payments")
Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


# --- errors in Stripe's shape ---------------------------------------------------------------


def stripe_error(
    status: int, message: str, *, type_: str = "invalid_request_error", **fields: Any
) -> UserError:
    error = UserError(status, message, {key: value for key, value in fields.items() if value})
    error.body["error"]["type"] = type_
    return error


def missing(param: str) -> UserError:
    return stripe_error(
        400, f"Missing required param: {param}.", code="parameter_missing", param=param
    )


def unknown_params(data: dict[str, Any], allowed: set[str]) -> None:
    extra = sorted(set(data) - allowed)
    if extra:
        raise stripe_error(
            400,
            f"Received unknown parameter: {extra[0]}",
            code="parameter_unknown",
            param=extra[0],
        )


def positive_int(data: dict[str, Any], param: str, *, required: bool) -> int | None:
    value = data.get(param)
    if value is None or value == "":
        if required:
            raise missing(param)
        return None
    if isinstance(value, bool) or not re.fullmatch(r"-?\d{1,15}", str(value)):
        raise stripe_error(
            400, f"Invalid integer: {value}", code="parameter_invalid_integer", param=param
        )
    number = int(value)
    if number < 1:
        raise stripe_error(
            400,
            "This value must be greater than or equal to 1.",
            code="parameter_invalid_integer",
            param=param,
        )
    return number


def string(data: dict[str, Any], param: str, *, required: bool = False) -> str | None:
    value = data.get(param)
    if value is None or value == "":
        if required:
            raise missing(param)
        return None
    if not isinstance(value, str):
        raise stripe_error(400, f"Invalid string: {value!r}", param=param)
    return value


def metadata_of(data: dict[str, Any]) -> dict[str, str]:
    value = data.get("metadata") or {}
    if not isinstance(value, dict) or not all(isinstance(v, str) for v in value.values()):
        raise stripe_error(400, "Invalid object", param="metadata")
    return {str(key): str(item) for key, item in value.items() if item != ""}


def no_such(kind: str, object_id: str, param: str | None = None) -> UserError:
    return stripe_error(
        404 if param is None else 400,
        f"No such {kind}: '{object_id}'",
        code="resource_missing",
        param=param,
    )


# --- objects ----------------------------------------------------------------------------------


class Account(StripeObject):
    object = "account"
    _id_prefix = "acct_"

    def __init__(self, country: str, email: str | None, capabilities: dict[str, Any]) -> None:
        super().__init__()
        self.type = "express"
        self.country = country
        self.email = email
        self.default_currency = CURRENCY_OF_COUNTRY.get(country, "eur")
        self.business_type = None
        self.charges_enabled = False
        self.payouts_enabled = False
        self.details_submitted = False
        self.capabilities = {name: "inactive" for name in capabilities}
        self.requirements = requirements(ONBOARDING_DUE, "requirements.past_due")
        self.metadata: dict[str, str] = {}

    def _enable(self) -> None:
        self.charges_enabled = self.payouts_enabled = self.details_submitted = True
        self.capabilities = {name: "active" for name in self.capabilities}
        self.requirements = requirements([], None)
        account_updated(self)

    def _restrict(self, disabled_reason: str, currently_due: list[str]) -> None:
        self.charges_enabled = self.payouts_enabled = False
        self.capabilities = {name: "inactive" for name in self.capabilities}
        self.requirements = requirements(currently_due, disabled_reason)
        account_updated(self)


def requirements(due: list[str], disabled_reason: str | None) -> dict[str, Any]:
    return {
        "alternatives": [],
        "current_deadline": None,
        "currently_due": list(due),
        "disabled_reason": disabled_reason,
        "errors": [],
        "eventually_due": list(due),
        "past_due": list(due),
        "pending_verification": [],
    }


def account_updated(account: Account) -> None:
    event = Event("account.updated", account)
    event.account = account.id  # type: ignore[attr-defined]  # a Connect event names its account
    schedule_webhook(event)


class TransferReversal(StripeObject):
    object = "transfer_reversal"
    _id_prefix = "trr_"

    def __init__(self, transfer: Transfer, amount: int, metadata: dict[str, str]) -> None:
        super().__init__()
        self.amount = amount
        self.currency = transfer.currency
        self.transfer = transfer.id
        self.metadata = metadata
        self.balance_transaction = None
        self.destination_payment_refund = None
        self.source_refund = None


class Transfer(StripeObject):
    object = "transfer"
    _id_prefix = "tr_"

    def __init__(self, **fields: Any) -> None:
        super().__init__()
        self.amount: int = fields["amount"]
        self.currency: str = fields["currency"]
        self.destination: str = fields["destination"]
        self.transfer_group = fields["transfer_group"]
        self.source_transaction = fields["source_transaction"]
        self.description = fields["description"]
        self.metadata = fields["metadata"]
        self.source_type = "card"
        self.balance_transaction = None
        self.destination_payment = "py_" + random_id(14)
        self._reversals: list[TransferReversal] = []

    @property
    def amount_reversed(self) -> int:
        return sum(reversal.amount for reversal in self._reversals)

    @property
    def reversed(self) -> bool:
        return self.amount_reversed >= self.amount

    @property
    def reversals(self) -> dict[str, Any]:
        return listing(f"/v1/transfers/{self.id}/reversals", self._reversals)


def listing(url: str, objects: list[Any]) -> dict[str, Any]:
    return {
        "object": "list",
        "url": url,
        "has_more": False,
        "data": [obj._export() for obj in objects],
    }


def objects_of(cls: type[Any]) -> list[Any]:
    return [value for key, value in store.items() if key.startswith(cls.object + ":")]


def get(cls: type[Any], object_id: str, kind: str, param: str | None = None) -> Any:
    obj = store.get(f"{cls.object}:{object_id}")
    if obj is None:
        raise no_such(kind, object_id, param)
    return obj


# --- balances ---------------------------------------------------------------------------------


def platform_available() -> dict[str, int]:
    """Captured charges - refunds - transfers + reversals, per currency. The emulator makes
    a charge's funds available at once (Stripe holds them pending for days)."""
    totals: dict[str, int] = {}

    def add(currency: str, amount: int) -> None:
        totals[currency] = totals.get(currency, 0) + amount

    for charge in objects_of(Charge):
        if charge.status == "succeeded" and charge.captured:
            add(charge.currency, charge.amount)
    for refund in objects_of(Refund):
        if refund.status == "succeeded":
            add(refund.currency, -refund.amount)
    for transfer in objects_of(Transfer):
        add(transfer.currency, transfer.amount_reversed - transfer.amount)
    return totals


def account_available(account: Account) -> dict[str, int]:
    totals: dict[str, int] = {}
    for transfer in objects_of(Transfer):
        if transfer.destination == account.id:
            net = transfer.amount - transfer.amount_reversed
            totals[transfer.currency] = totals.get(transfer.currency, 0) + net
    return totals


def balance_body(available: dict[str, int], default_currency: str) -> dict[str, Any]:
    currencies = sorted(available) or [default_currency]

    def funds(amount_of: Callable[[str], int]) -> list[dict[str, Any]]:
        return [
            {"amount": amount_of(c), "currency": c, "source_types": {"card": amount_of(c)}}
            for c in currencies
        ]

    return {
        "object": "balance",
        "livemode": False,
        "available": funds(lambda c: available.get(c, 0)),
        "pending": funds(lambda c: 0),
        "connect_reserved": [{"amount": 0, "currency": c} for c in currencies],
    }


def acting_account(request: web.Request) -> Account | None:
    """The connected account named by the ``Stripe-Account`` header, if any."""
    account_id = request.headers.get("Stripe-Account")
    if not account_id:
        return None
    account = store.get(f"account:{account_id}")
    if account is None:
        raise stripe_error(
            403,
            f"The provided key does not have access to account '{account_id}' (or that "
            "account does not exist). Application access may have been revoked.",
            code="account_invalid",
        )
    return account  # type: ignore[no-any-return]


async def get_balance(request: web.Request) -> web.Response:
    account = acting_account(request)
    if account is None:
        return json_response(balance_body(platform_available(), "eur"))
    return json_response(balance_body(account_available(account), account.default_currency))
