"""The HTTP side of the emulator's Connect (see connect.py): Stripe's routes for accounts,
account links, transfers, reversals and the balance, Idempotency-Key handling for them,
``transfer_group`` on PaymentIntents and Charges, and the emulator-only ``/_config/`` routes.
"""

from __future__ import annotations

import hashlib
import json
import time
from collections.abc import Callable
from typing import Any

from aiohttp import web
from connect import (
    CAPABILITIES,
    LINK_LIFETIME,
    Account,
    Handler,
    Transfer,
    TransferReversal,
    get,
    get_balance,
    listing,
    metadata_of,
    objects_of,
    platform_available,
    positive_int,
    string,
    stripe_error,
    unknown_params,
)
from localstripe.errors import UserError
from localstripe.resources import Charge, PaymentIntent, random_id, store
from localstripe.server import get_post_data, json_response, unflatten_data

# --- Idempotency-Key (Stripe: same key + same request → the first answer, replayed) ---------


def idempotent(handler: Callable[[web.Request, dict[str, Any]], Any]) -> Handler:
    """Wrap a POST handler taking (request, params): with an ``Idempotency-Key`` header, the
    first answer (success or error) is saved and replayed for the same key and parameters;
    the same key with other parameters or on another endpoint is Stripe's 400
    ``idempotency_error``. Keys are scoped by the ``Stripe-Account`` header, as at Stripe."""

    async def wrapped(request: web.Request) -> web.StreamResponse:
        params = await get_post_data(request) or {}
        key = request.headers.get("Idempotency-Key")
        if not key:
            return answer(handler, request, params)
        scope = request.headers.get("Stripe-Account", "")
        store_key = "idempotency:" + hashlib.sha256(f"{scope}\0{key}".encode()).hexdigest()
        fingerprint = json.dumps(params, sort_keys=True)
        saved = store.get(store_key)
        if saved is None:
            response = answer(handler, request, params)
            if not failed_validation(response):
                store[store_key] = (request.path, fingerprint, response.status, response.text)
            return response
        path, saved_fingerprint, status, body = saved
        if path != request.path or saved_fingerprint != fingerprint:
            raise stripe_error(
                400,
                "Keys for idempotent requests can only be used with the same parameters they "
                f"were first used with. Try using a key other than '{key}' if you meant to "
                "execute a different request.",
                type_="idempotency_error",
            )
        replay = web.Response(status=status, text=body, content_type="application/json")
        replay.headers["Idempotent-Replayed"] = "true"
        return replay

    return wrapped


def failed_validation(response: web.Response) -> bool:
    """Stripe saves no result for a request whose parameters failed validation: fixing them
    and sending the same key again is a new request."""
    if response.status < 400 or not response.text:
        return False
    code = json.loads(response.text).get("error", {}).get("code") or ""
    return str(code).startswith("parameter_")


def answer(
    handler: Callable[[web.Request, dict[str, Any]], Any],
    request: web.Request,
    params: dict[str, Any],
) -> web.Response:
    try:
        return json_response(handler(request, params)._export())
    except UserError as error:
        response: web.Response = error.to_response()
        return response


# --- accounts and account links ---------------------------------------------------------------


def create_account(request: web.Request, data: dict[str, Any]) -> Account:
    unknown_params(data, {"type", "country", "email", "capabilities", "metadata"})
    account_type = string(data, "type", required=True)
    if account_type != "express":
        raise stripe_error(
            400, f"The emulator only has Express accounts, not '{account_type}'.", param="type"
        )
    country = (string(data, "country") or "DE").upper()
    if len(country) != 2 or not country.isalpha():
        raise stripe_error(400, f"Country '{country}' is unknown.", param="country")
    capabilities = data.get("capabilities") or {}
    if not isinstance(capabilities, dict):
        raise stripe_error(400, "Invalid object", param="capabilities")
    for name in capabilities:
        if name not in CAPABILITIES:
            raise stripe_error(
                400, f"Received unknown parameter: capabilities[{name}]", param="capabilities"
            )
    requested = {
        name: value
        for name, value in capabilities.items()
        if isinstance(value, dict) and str(value.get("requested")).lower() == "true"
    }
    metadata = metadata_of(data)
    account = Account(country, string(data, "email"), requested)
    account.metadata = metadata
    return account


def update_account(request: web.Request, data: dict[str, Any]) -> Account:
    account: Account = get(Account, request.match_info["id"], "account")
    unknown_params(data, {"email", "metadata"})
    metadata = metadata_of(data)
    if "email" in data:
        account.email = string(data, "email")
    for key, value in (data.get("metadata") or {}).items():
        if value == "":
            account.metadata.pop(key, None)
    account.metadata.update(metadata)
    return account


async def retrieve_account(request: web.Request) -> web.Response:
    return json_response(get(Account, request.match_info["id"], "account")._export())


class AccountLink:
    """Not stored by Stripe as an object with an id; kept here by its one-use token."""

    def __init__(self, url: str, expires_at: int, created: int) -> None:
        self.url, self.expires_at, self.created = url, expires_at, created

    def _export(self) -> dict[str, Any]:
        return {
            "object": "account_link",
            "url": self.url,
            "created": self.created,
            "expires_at": self.expires_at,
        }


def create_account_link(request: web.Request, data: dict[str, Any]) -> AccountLink:
    unknown_params(data, {"account", "refresh_url", "return_url", "type", "collect"})
    account_id = string(data, "account", required=True)
    assert account_id is not None
    get(Account, account_id, "account", "account")
    link_type = string(data, "type", required=True)
    if link_type != "account_onboarding":
        raise stripe_error(
            400,
            f"The emulator only has account_onboarding links, not '{link_type}'.",
            param="type",
        )
    refresh_url = string(data, "refresh_url", required=True)
    return_url = string(data, "return_url", required=True)
    token = random_id(24)
    now = int(time.time())
    base = f"{request.scheme}://{request.host}"
    link = AccountLink(f"{base}/_config/account_links/{token}/complete", now + LINK_LIFETIME, now)
    store["account_link:" + token] = {
        "account": account_id,
        "refresh_url": refresh_url,
        "return_url": return_url,
        "expires_at": link.expires_at,
        "used": False,
    }
    return link


async def complete_account_link(request: web.Request) -> web.Response:
    """Emulator-only: the account holder finished onboarding through this link."""
    link = store.get("account_link:" + request.match_info["token"])
    if link is None:
        raise stripe_error(404, "No such account link.")
    if link["used"] or link["expires_at"] < time.time():
        raise stripe_error(
            400,
            "This account link has expired or was already used; create a new one "
            f"(Stripe sends the holder to refresh_url: {link['refresh_url']}).",
        )
    link["used"] = True
    account: Account = get(Account, link["account"], "account")
    account._enable()
    return json_response({"account": account._export(), "return_url": link["return_url"]})


async def restrict_account(request: web.Request) -> web.Response:
    """Emulator-only: Stripe disabled the account (e.g. missing documents)."""
    account: Account = get(Account, request.match_info["id"], "account")
    data = await get_post_data(request) or {}
    reason = data.get("disabled_reason") or "requirements.past_due"
    due = data.get("currently_due") or ["individual.verification.document"]
    if not isinstance(reason, str) or not isinstance(due, list):
        raise stripe_error(400, "disabled_reason is a string, currently_due a list")
    account._restrict(reason, [str(item) for item in due])
    return json_response(account._export())


# --- transfers and reversals ------------------------------------------------------------------


def create_transfer(request: web.Request, data: dict[str, Any]) -> Transfer:
    unknown_params(
        data,
        {
            "amount",
            "currency",
            "destination",
            "transfer_group",
            "source_transaction",
            "description",
            "metadata",
        },
    )
    amount = positive_int(data, "amount", required=True)
    currency = (string(data, "currency", required=True) or "").lower()
    destination_id = string(data, "destination", required=True)
    assert amount is not None and destination_id is not None
    metadata = metadata_of(data)
    destination: Account = get(Account, destination_id, "destination", "destination")
    if destination.capabilities.get("transfers") != "active":
        raise stripe_error(
            400,
            "Your destination account needs to have at least one of the following "
            "capabilities enabled: transfers, crypto_transfers, legacy_payments",
            param="destination",
        )
    source_id = string(data, "source_transaction")
    if source_id is not None:
        charge = get(Charge, source_id, "charge", "source_transaction")
        if charge.status != "succeeded" or charge.currency != currency:
            raise stripe_error(
                400,
                f"The source transaction {source_id} has not succeeded in {currency}.",
                param="source_transaction",
            )
    if platform_available().get(currency, 0) < amount:
        raise stripe_error(
            400,
            "You have insufficient available funds in your Stripe account. Try adding "
            "funds directly to your available balance by creating Charges using the "
            "4000000000000077 test card. See: https://stripe.com/docs/testing#available-balance",
            code="balance_insufficient",
        )
    return Transfer(
        amount=amount,
        currency=currency,
        destination=destination_id,
        transfer_group=string(data, "transfer_group"),
        source_transaction=source_id,
        description=string(data, "description"),
        metadata=metadata,
    )


async def retrieve_transfer(request: web.Request) -> web.Response:
    return json_response(get(Transfer, request.match_info["id"], "transfer")._export())


async def list_transfers(request: web.Request) -> web.Response:
    query = unflatten_data(request.query)
    unknown_params(query, {"transfer_group", "destination", "limit"})
    found = [
        transfer
        for transfer in objects_of(Transfer)
        if query.get("transfer_group") in (None, transfer.transfer_group)
        and query.get("destination") in (None, transfer.destination)
    ]
    found.sort(key=lambda transfer: transfer.created, reverse=True)
    limit = positive_int(query, "limit", required=False) or 10
    body = listing("/v1/transfers", found[:limit])
    body["has_more"] = len(found) > limit
    return json_response(body)


def create_reversal(request: web.Request, data: dict[str, Any]) -> TransferReversal:
    transfer: Transfer = get(Transfer, request.match_info["id"], "transfer")
    unknown_params(data, {"amount", "description", "metadata"})
    left = transfer.amount - transfer.amount_reversed
    amount = positive_int(data, "amount", required=False)
    metadata = metadata_of(data)
    if left == 0:
        raise stripe_error(400, f"Transfer {transfer.id} has already been reversed.")
    if amount is None:
        amount = left
    if amount > left:
        raise stripe_error(
            400,
            f"You cannot reverse more than the remaining amount of the transfer ({left} "
            f"{transfer.currency}); {amount} was asked.",
            param="amount",
        )
    reversal = TransferReversal(transfer, amount, metadata)
    transfer._reversals.append(reversal)
    return reversal


async def list_reversals(request: web.Request) -> web.Response:
    transfer: Transfer = get(Transfer, request.match_info["id"], "transfer")
    return json_response(transfer.reversals)


# --- transfer_group on PaymentIntents (and so their Charges) ----------------------------------


def add_transfer_group() -> None:
    """PaymentIntents take and echo ``transfer_group``; a Charge shows its PaymentIntent's."""
    original_init = PaymentIntent.__init__
    if getattr(original_init, "_takes_transfer_group", False):
        return

    def init(self: PaymentIntent, *args: Any, transfer_group: Any = None, **kwargs: Any) -> None:
        if transfer_group is not None and not isinstance(transfer_group, str):
            raise stripe_error(400, "Invalid string", param="transfer_group")
        original_init(self, *args, **kwargs)
        self.transfer_group = transfer_group or None

    init._takes_transfer_group = True  # type: ignore[attr-defined]
    PaymentIntent.__init__ = init  # type: ignore[method-assign]

    def charge_transfer_group(charge: Charge) -> str | None:
        if not charge.payment_intent:
            return None
        intent = store.get("payment_intent:" + charge.payment_intent)
        return getattr(intent, "transfer_group", None)

    Charge.transfer_group = property(charge_transfer_group)  # type: ignore[attr-defined]


@web.middleware
async def balance_middleware(request: web.Request, handler: Handler) -> web.StreamResponse:
    """localstripe answers ``GET /v1/balance`` with a fixed object; this answers it instead
    (the route is localstripe's, registered first)."""
    if request.method == "GET" and request.path == "/v1/balance":
        return await get_balance(request)
    return await handler(request)


def install(app: web.Application) -> None:
    """Add Connect to localstripe's app; call before the app starts."""
    add_transfer_group()
    # After localstripe's auth middleware (so an API key is required), before its handler.
    app.middlewares.append(balance_middleware)
    app.router.add_post("/v1/accounts", idempotent(create_account))
    app.router.add_get("/v1/accounts/{id}", retrieve_account)
    app.router.add_post("/v1/accounts/{id}", idempotent(update_account))
    app.router.add_post("/v1/account_links", idempotent(create_account_link))
    app.router.add_post("/v1/transfers", idempotent(create_transfer))
    app.router.add_get("/v1/transfers", list_transfers)
    app.router.add_get("/v1/transfers/{id}", retrieve_transfer)
    app.router.add_post("/v1/transfers/{id}/reversals", idempotent(create_reversal))
    app.router.add_get("/v1/transfers/{id}/reversals", list_reversals)
    for method in ("GET", "POST"):  # a browser's visit, or complete_account_link
        app.router.add_route(
            method, "/_config/account_links/{token}/complete", complete_account_link
        )
    app.router.add_post("/_config/accounts/{id}/restrict", restrict_account)
