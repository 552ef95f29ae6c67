"""The emulator's Connect transfers (infra/localstripe/connect.py), through the real stripe
SDK: Idempotency-Key replay and concurrency, reversals, balances that add up, bad
parameters."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from typing import Any

import pytest
import stripe

from clipcart_tools.localstripe import (
    stripe_client,
)
from tests.infra.localstripe_connect.conftest import (
    available,
    charge,
    enabled_account,
)


def test_an_idempotent_transfer_is_made_once(client: stripe.StripeClient) -> None:
    charge(client, 5000)
    account = enabled_account(client)
    params = {
        "amount": 1200,
        "currency": "eur",
        "destination": account,
        "transfer_group": "order_1",
        "metadata": {"settlement": "s1"},
    }
    first = client.v1.transfers.create(params, options={"idempotency_key": "settle-s1"})
    again = client.v1.transfers.create(params, options={"idempotency_key": "settle-s1"})
    assert again.id == first.id
    assert [t.id for t in client.v1.transfers.list({"destination": account}).data] == [first.id]

    with pytest.raises(stripe.IdempotencyError) as other_params:
        client.v1.transfers.create(
            {**params, "amount": 1300}, options={"idempotency_key": "settle-s1"}
        )
    assert other_params.value.http_status == 400
    assert "same parameters" in str(other_params.value.user_message)

    # The key is the request's: another key is another transfer.
    client.v1.transfers.create(params, options={"idempotency_key": "settle-s2"})
    assert len(client.v1.transfers.list({"transfer_group": "order_1"}).data) == 2
    assert available(client) == {"eur": 5000 - 2 * 1200}


def test_concurrent_requests_with_one_key_make_one_transfer(base: str) -> None:
    client = stripe_client(base)
    charge(client, 5000)
    account = enabled_account(client)
    params = {"amount": 1000, "currency": "eur", "destination": account}

    def send(_: int) -> str:
        # A client per thread, as separate workers would have.
        own = stripe_client(base)
        return str(own.v1.transfers.create(params, options={"idempotency_key": "race"}).id)

    with ThreadPoolExecutor(max_workers=8) as pool:
        ids = set(pool.map(send, range(16)))
    assert len(ids) == 1
    assert [t.id for t in client.v1.transfers.list().data] == list(ids)
    assert available(client) == {"eur": 4000}


def test_an_answered_error_is_replayed_for_its_key(client: stripe.StripeClient) -> None:
    account = enabled_account(client)
    params = {"amount": 700, "currency": "eur", "destination": account}
    with pytest.raises(stripe.InvalidRequestError) as poor:
        client.v1.transfers.create(params, options={"idempotency_key": "k"})
    assert poor.value.code == "balance_insufficient"
    charge(client, 2000)
    with pytest.raises(stripe.InvalidRequestError) as replayed:
        client.v1.transfers.create(params, options={"idempotency_key": "k"})
    assert replayed.value.code == "balance_insufficient"
    assert client.v1.transfers.create(params, options={"idempotency_key": "k2"}).amount == 700

    # A request whose parameters failed validation is not saved: fixed, the key is new.
    with pytest.raises(stripe.InvalidRequestError) as invalid:
        client.v1.transfers.create({**params, "amount": "7x"}, options={"idempotency_key": "v"})
    assert invalid.value.code == "parameter_invalid_integer"
    fixed = client.v1.transfers.create(params, options={"idempotency_key": "v"})
    assert fixed.amount == 700
    assert len(client.v1.transfers.list({"destination": account}).data) == 2


def test_reversals_partial_then_the_rest_and_never_more(client: stripe.StripeClient) -> None:
    charge(client, 5000)
    account = enabled_account(client)
    transfer = client.v1.transfers.create(
        {"amount": 3000, "currency": "eur", "destination": account}
    )
    part = client.v1.transfers.reversals.create(
        transfer.id,
        {"amount": 1000, "metadata": {"refund": "r1"}},
        options={"idempotency_key": "r1"},
    )
    replay = client.v1.transfers.reversals.create(
        transfer.id,
        {"amount": 1000, "metadata": {"refund": "r1"}},
        options={"idempotency_key": "r1"},
    )
    assert (part.object, part.amount, part.transfer, replay.id) == (
        "transfer_reversal",
        1000,
        transfer.id,
        part.id,
    )
    after = client.v1.transfers.retrieve(transfer.id)
    assert (after.amount_reversed, after.reversed) == (1000, False)

    with pytest.raises(stripe.InvalidRequestError) as too_much:
        client.v1.transfers.reversals.create(transfer.id, {"amount": 2001})
    assert (too_much.value.http_status, too_much.value.param) == (400, "amount")

    rest = client.v1.transfers.reversals.create(transfer.id)
    assert rest.amount == 2000
    assert client.v1.transfers.retrieve(transfer.id).reversed is True
    with pytest.raises(stripe.InvalidRequestError):
        client.v1.transfers.reversals.create(transfer.id, {"amount": 1})
    listed = client.v1.transfers.reversals.list(transfer.id).data
    assert sorted(r.amount for r in listed) == [1000, 2000]
    assert available(client, account) == {"eur": 0}


def test_balances_add_up(client: stripe.StripeClient) -> None:
    intent = charge(client, 5000, transfer_group="order_42")
    assert intent.transfer_group == "order_42"
    assert intent.latest_charge.transfer_group == "order_42"
    client.v1.refunds.create({"payment_intent": intent.id, "amount": 500})
    merchant, creator = enabled_account(client), enabled_account(client)
    to_merchant = client.v1.transfers.create(
        {
            "amount": 3000,
            "currency": "eur",
            "destination": merchant,
            "transfer_group": "order_42",
            "source_transaction": intent.latest_charge.id,
        }
    )
    client.v1.transfers.create({"amount": 1000, "currency": "eur", "destination": creator})
    client.v1.transfers.reversals.create(to_merchant.id, {"amount": 400})

    assert available(client) == {"eur": 5000 - 500 - 3000 - 1000 + 400}
    assert available(client, merchant) == {"eur": 2600}
    assert available(client, creator) == {"eur": 1000}
    grouped = client.v1.transfers.list({"transfer_group": "order_42"}).data
    assert [t.id for t in grouped] == [to_merchant.id]

    with pytest.raises(stripe.InvalidRequestError) as short:
        client.v1.transfers.create({"amount": 901, "currency": "eur", "destination": creator})
    assert (short.value.http_status, short.value.code) == (400, "balance_insufficient")
    client.v1.transfers.create({"amount": 900, "currency": "eur", "destination": creator})
    assert available(client) == {"eur": 0}

    with pytest.raises(stripe.PermissionError):
        client.v1.balance.retrieve(options={"stripe_account": "acct_nobody"})


@pytest.mark.parametrize(
    ("params", "code", "param"),
    [
        ({"amount": "abc", "currency": "eur"}, "parameter_invalid_integer", "amount"),
        ({"amount": 0, "currency": "eur"}, "parameter_invalid_integer", "amount"),
        ({"amount": 10**20, "currency": "eur"}, "parameter_invalid_integer", "amount"),
        ({"amount": 100}, "parameter_missing", "currency"),
        ({"amount": 100, "currency": "eur", "surprise": "1"}, "parameter_unknown", "surprise"),
        (
            {"amount": 100, "currency": "eur", "source_transaction": "ch_nope"},
            "resource_missing",
            "source_transaction",
        ),
    ],
)
def test_bad_transfer_parameters(
    client: stripe.StripeClient, params: dict[str, Any], code: str, param: str
) -> None:
    charge(client, 1000)
    account = enabled_account(client)
    with pytest.raises(stripe.InvalidRequestError) as error:
        client.v1.transfers.create({"destination": account, **params})
    assert (error.value.http_status, error.value.code, error.value.param) == (400, code, param)
    assert client.v1.transfers.list().data == []
