"""Money out (issue 16, ADR 30): every movement of money is a balanced ledger entry,
posted once; a merchant's settled part of an order becomes one Stripe transfer (to an
enabled account only) of its lines and shipping less refunds, the platform fee and the
creators' commission (asked of the real video service); a refund after the transfer
reverses the merchant's share; a creator payout that video made is posted once
(`POST /internal/v1/creator-payouts/`, ADR 33). Real PostgreSQL, the real SDK against
the emulator."""

from __future__ import annotations

import json
import threading
import uuid
from datetime import timedelta
from typing import Any

import pytest
from django.db import IntegrityError, connection, connections, transaction
from rest_framework.test import APIClient

from clipcart_shared.auth import service_token_mint
from clipcart_shared.money import allocate
from clipcart_shared.outbox.models import OutboxEvent
from clipcart_tools.localstripe import complete_account_link, flush, stripe_client
from orders.models import MerchantPolicy, Order
from orders.services import order_refund
from orders.services.ledger import refund_post
from orders.services.transfers import merchant_transfers_sweep
from payments.ledger import Posting, account_balance, entry_post, ledger_audit
from payments.models import (
    LedgerAccount,
    LedgerEntry,
    LedgerPosting,
    MerchantPayoutAccount,
    MerchantTransfer,
)
from payments.payouts import merchant_payout_account_onboard
from tests.after_payment import deliver
from tests.conftest import ADDRESS, STRIPE_KEY, intent_object, stripe_event, webhook_post
from tests.test_webhooks_and_orders import _pay_on_the_emulator

pytestmark = pytest.mark.django_db

VIDEO_EVENT_TYPES = ["order.paid", "order.refunded"]
COMMISSION_BPS = 1_000
SETTLED = {"delivered_ago": timedelta(days=31), "window": timedelta(days=30)}


@pytest.fixture(autouse=True)
def _emulator_emptied(stripe_emulator):
    """The demo merchants' accounts (and their idempotency keys, which name the merchant)
    made by other tests sharing the session's emulator are not met here, and those made
    here are not left to them."""
    flush(stripe_emulator)
    yield
    flush(stripe_emulator)


@pytest.fixture
def two_shops(catalog, _variants) -> tuple[dict[str, Any], dict[str, Any]]:
    """A variant of the first demo merchant and one of another merchant in its currency."""
    first = _variants[0]
    others = [
        variant
        for variant in catalog.variants()
        if variant["merchant_id"] != first["merchant_id"]
        and variant["price"]["currency"] == first["price"]["currency"]
    ]
    catalog.set_stocks([others[0]["id"]], 100_000)
    return first, others[0]


def _checkout(
    client_for, api_client, emulator: str, lines: list[dict[str, Any]], *, buyer: str = "buyer"
) -> Order:
    response = client_for(buyer).post(
        "/api/v1/checkouts/",
        {"email": "ada@example.com", "shipping_address": ADDRESS, "lines": lines},
        format="json",
        HTTP_IDEMPOTENCY_KEY=str(uuid.uuid4()),
    )
    assert response.status_code == 201, response.json()
    order = Order.objects.get(id=response.json()["order"]["id"])
    _pay_on_the_emulator(emulator, order)
    webhook_post(api_client, stripe_event("payment_intent.succeeded", intent_object(order)))
    order.refresh_from_db()
    assert order.status == "paid"
    return order


def _video_hook(video, name: str, **arguments: Any) -> Any:
    out = video.service.manage("attribution_testhook", name, json.dumps(arguments, default=str))
    return json.loads(out.strip().splitlines()[-1])


def _video_hears_checkout(video) -> None:
    """Video's worker consuming checkout's events (each once), as the broker would."""
    envelopes = [
        event.envelope()
        for event in OutboxEvent.objects.filter(type__in=VIDEO_EVENT_TYPES).order_by("id")
    ]
    _video_hook(video, "checkout_events_consume", envelopes=envelopes)


def _enable(api_client, merchant_id: str) -> str:
    """The merchant's payout account set up and onboarded; its `account.updated` applied."""
    url = merchant_payout_account_onboard(
        merchant_id=uuid.UUID(merchant_id),
        created_by="admin:test",
        refresh_url="https://shop.example/refresh",
        return_url="https://shop.example/return",
    )
    account = complete_account_link(url)["account"]
    event = stripe_event("account.updated", account)
    event["account"] = account["id"]
    webhook_post(api_client, event)
    assert MerchantPayoutAccount.objects.get(merchant_id=merchant_id).status == "enabled"
    return str(account["id"])


def _stripe_transfers(emulator: str, order: Order) -> list[dict[str, Any]]:
    found = stripe_client(emulator, STRIPE_KEY).v1.transfers.list({"transfer_group": str(order.id)})
    return [transfer.to_dict() for transfer in found.data]


def _balance(account: str, merchant_id: Any = None, **filters: Any) -> int:
    return sum(account_balance(account=account, merchant_id=merchant_id, **filters).values())


def _assert_balanced() -> None:
    audit = ledger_audit()
    assert audit.is_balanced, audit
    assert set(audit.totals.values()) <= {0}


def _shares(order: Order) -> dict[str, int]:
    """Each merchant's lines plus its share of shipping (in proportion to lines)."""
    totals: dict[str, int] = {}
    for line in order.lines.all():
        merchant = str(line.merchant_id)
        totals[merchant] = totals.get(merchant, 0) + line.line_total_amount
    merchants = sorted(totals)
    shipping = allocate(order.shipping_amount, [totals[m] for m in merchants])
    return {m: totals[m] + share for m, share in zip(merchants, shipping, strict=True)}


def _fee(amount: int, bps: int) -> int:
    return (amount * bps + 5_000) // 10_000


def _commission(amount: int) -> int:
    return (2 * amount * COMMISSION_BPS + 10_000) // 20_000


@pytest.fixture
def sourced(video, two_shops):
    """The first shop's product tagged in a published video, at 10 % commission."""
    first, _ = two_shops
    _video_hook(
        video,
        "product_commission_rate_set",
        product_id=first["product_id"],
        merchant_id=first["merchant_id"],
        rate_bps=COMMISSION_BPS,
    )
    return video.tag(first["product_id"])


def test_a_two_shop_order_settles_into_exact_transfers_and_the_books_balance(
    settings, client_for, api_client, stripe_emulator, video, two_shops, sourced
):
    settings.PLATFORM_FEE_BPS = 500
    first, second = two_shops
    MerchantPolicy.objects.create(merchant_id=second["merchant_id"], platform_fee_bps=250)
    order = _checkout(
        client_for,
        api_client,
        stripe_emulator,
        [
            {"variant_id": first["id"], "quantity": 2, "source": sourced},
            {"variant_id": second["id"], "quantity": 1},
        ],
    )
    accounts = {m["merchant_id"]: _enable(api_client, m["merchant_id"]) for m in two_shops}
    deliver(order, **SETTLED)
    _video_hears_checkout(video)

    done = merchant_transfers_sweep()

    assert done == {"settled": 2, "sent": 2, "reversed": 0}
    shares = _shares(order)
    first_lines = order.lines.get(merchant_id=first["merchant_id"]).line_total_amount
    expected = {
        first["merchant_id"]: shares[first["merchant_id"]]
        - _fee(shares[first["merchant_id"]], 500)
        - _commission(first_lines),
        second["merchant_id"]: shares[second["merchant_id"]]
        - _fee(shares[second["merchant_id"]], 250),
    }
    sent = {t["destination"]: t for t in _stripe_transfers(stripe_emulator, order)}
    assert {m: sent[accounts[m]]["amount"] for m in expected} == expected
    charge = stripe_client(stripe_emulator, STRIPE_KEY).v1.payment_intents.retrieve(
        order.payment_intent_id
    )
    latest = charge.latest_charge
    assert {t["source_transaction"] for t in sent.values()} == {
        latest if isinstance(latest, str) else latest.id
    }
    rows = {str(t.merchant_id): t for t in MerchantTransfer.objects.all()}
    assert rows[first["merchant_id"]].commission_amount == _commission(first_lines)
    assert rows[second["merchant_id"]].commission_amount == 0
    assert {m: (rows[m].status, rows[m].amount) for m in rows} == {
        m: ("sent", amount) for m, amount in expected.items()
    }
    _assert_balanced()
    fees = _fee(shares[first["merchant_id"]], 500) + _fee(shares[second["merchant_id"]], 250)
    assert _balance(LedgerAccount.PLATFORM_FEE_REVENUE) == -fees
    assert _balance(
        LedgerAccount.CREATOR_COMMISSION_PAYABLE, uuid.UUID(first["merchant_id"])
    ) == -_commission(first_lines)
    assert _balance(LedgerAccount.PLATFORM_CASH, order_id=order.id) == (
        order.total_amount - sum(expected.values())
    )
    for merchant in expected:
        assert _balance(LedgerAccount.MERCHANT_PENDING, uuid.UUID(merchant)) == 0
        assert _balance(LedgerAccount.MERCHANT_PAYABLE, uuid.UUID(merchant)) == 0
    # Nothing more on a second run: one transfer per (order, merchant).
    assert merchant_transfers_sweep() == {"settled": 0, "sent": 0, "reversed": 0}
    assert len(_stripe_transfers(stripe_emulator, order)) == 2


# --- every attribution model the merchants chose (issue 16) ------------------------------

MODELS = ["last_touch", "first_touch", "linear", "position_based", "time_decay"]
CREATOR_RATES = {"ana": 1_150, "ben": 1_975}
# The buyer's path to the sale: a tap on Ana's video three weeks before paying, then on
# Ben's two videos two weeks and one week before. Each step is a whole half-life of time
# decay (7 days), so its weights are exact: 1 : 2 : 4.
PATH = [
    ("ana", 0, timedelta(days=21)),
    ("ben", 0, timedelta(days=14)),
    ("ben", 1, timedelta(days=7)),
]
WEIGHTS = {
    "last_touch": [0, 0, 1],
    "first_touch": [1, 0, 0],
    "linear": [1, 1, 1],
    "position_based": [2, 1, 2],  # 40 % each end, 20 % the middle
    "time_decay": [1, 2, 4],
}


def _split(amount: int, weights: list[int]) -> list[int]:
    """Largest remainder, ties to the earlier touch: how video shares a line's amount."""
    total = sum(weights)
    parts = [amount * weight // total for weight in weights]
    order = sorted(range(len(weights)), key=lambda i: (-(amount * weights[i] % total), i))
    for i in order[: amount - sum(parts)]:
        parts[i] += 1
    return parts


def _expected_commission(amount: int, model: str) -> int:
    """A line's commission under `model`: each creator's share of the amount at that
    creator's rate, each credit rounded half up."""
    shares = _split(amount, WEIGHTS[model])
    return sum(
        (2 * share * CREATOR_RATES[creator] + 10_000) // 20_000
        for share, (creator, _, _) in zip(shares, PATH, strict=True)
    )


@pytest.fixture
def credited_by_two_creators(video, two_shops):
    """Ana (one video) and Ben (two), each at their own rate, with videos tagging both
    shops' products; the merchants' choices are cleared afterwards (video's database is
    the session's)."""
    products = [{"product_id": v["product_id"], "merchant_id": v["merchant_id"]} for v in two_shops]
    creators = {
        name: _video_hook(
            video,
            "creator_videos_create",
            commission_rate_bps=rate,
            videos=2 if name == "ben" else 1,
            products=products,
        )
        for name, rate in CREATOR_RATES.items()
    }
    yield creators
    _video_hook(
        video, "merchant_attribution_clear", merchant_ids=[v["merchant_id"] for v in two_shops]
    )


def _order_books(order: Order) -> dict[str, int]:
    """The order's side of the ledger: captured, refunded, and what its settlements owe."""
    postings = LedgerPosting.objects.filter(entry__order_id=order.id)

    def total(**filters: Any) -> int:
        return sum(postings.filter(**filters).values_list("amount", flat=True))

    return {
        "captured": total(entry__kind="order_paid", account=LedgerAccount.PLATFORM_CASH),
        "refunded": -total(entry__kind="refund", account=LedgerAccount.PLATFORM_CASH),
        "merchant_payables": -total(
            entry__kind="settlement", account=LedgerAccount.MERCHANT_PAYABLE
        ),
        "creator_payables": -total(account=LedgerAccount.CREATOR_COMMISSION_PAYABLE),
        "platform_fees": -total(account=LedgerAccount.PLATFORM_FEE_REVENUE),
    }


@pytest.mark.parametrize("model", MODELS)
def test_each_merchant_gets_its_share_less_the_commission_of_the_model_it_chose(
    settings,
    client_for,
    api_client,
    stripe_emulator,
    video,
    two_shops,
    credited_by_two_creators,
    model,
):
    settings.PLATFORM_FEE_BPS = 500
    first, second = two_shops
    MerchantPolicy.objects.create(merchant_id=second["merchant_id"], platform_fee_bps=250)
    # The second merchant chose another model than the first: each part is settled under
    # its own merchant's choice.
    chosen = {
        first["merchant_id"]: model,
        second["merchant_id"]: MODELS[(MODELS.index(model) + 1) % 5],
    }
    _video_hook(
        video,
        "merchant_attribution_set",
        merchant_models=chosen,
        click_window_days=30,  # the path's first tap, three weeks before, counts
        product_ids=[v["product_id"] for v in two_shops],
    )
    buyer = f"buyer-{uuid.uuid4()}"
    order = _checkout(
        client_for,
        api_client,
        stripe_emulator,
        [{"variant_id": first["id"], "quantity": 3}, {"variant_id": second["id"], "quantity": 2}],
        buyer=buyer,
    )
    assert order.paid_at is not None
    _video_hook(
        video,
        "touches_record",
        user_id=buyer,
        touches=[
            {
                "video_id": credited_by_two_creators[creator]["video_ids"][index],
                "product_id": first["product_id"],
                "type": "tag_tap",
                "occurred_at": (order.paid_at - before).isoformat(),
            }
            for creator, index, before in PATH
        ],
    )
    accounts = {m["merchant_id"]: _enable(api_client, m["merchant_id"]) for m in two_shops}
    deliver(order, **SETTLED)
    _video_hears_checkout(video)

    assert merchant_transfers_sweep() == {"settled": 2, "sent": 2, "reversed": 0}

    shares = _shares(order)
    lines = {str(line.merchant_id): line.line_total_amount for line in order.lines.all()}
    fees = {first["merchant_id"]: 500, second["merchant_id"]: 250}
    commissions = {m: _expected_commission(lines[m], chosen[m]) for m in lines}
    assert len({_expected_commission(lines[first["merchant_id"]], m) for m in MODELS}) == 5
    expected = {m: shares[m] - _fee(shares[m], fees[m]) - commissions[m] for m in lines}
    sent = {t["destination"]: t["amount"] for t in _stripe_transfers(stripe_emulator, order)}
    assert sent == {accounts[m]: amount for m, amount in expected.items()}
    rows = {str(t.merchant_id): t for t in MerchantTransfer.objects.filter(order_id=order.id)}
    assert {m: (rows[m].commission_amount, rows[m].amount) for m in rows} == {
        m: (commissions[m], expected[m]) for m in lines
    }
    platform_fees = sum(_fee(shares[m], fees[m]) for m in lines)
    books = _order_books(order)
    assert books == {
        "captured": order.total_amount,
        "refunded": 0,
        "merchant_payables": sum(expected.values()),
        "creator_payables": sum(commissions.values()),
        "platform_fees": platform_fees,
    }
    assert books["captured"] - books["refunded"] == (
        books["merchant_payables"] + books["creator_payables"] + books["platform_fees"]
    )
    # The platform keeps its fee and holds the creators' commission until video pays it.
    assert _balance(LedgerAccount.PLATFORM_CASH, order_id=order.id) == (
        platform_fees + sum(commissions.values())
    )
    for merchant in lines:
        assert _balance(LedgerAccount.MERCHANT_PAYABLE, uuid.UUID(merchant)) == 0
        assert (
            _balance(LedgerAccount.CREATOR_COMMISSION_PAYABLE, uuid.UUID(merchant))
            == -commissions[merchant]
        )
    _assert_balanced()


def test_before_its_window_closes_a_part_does_not_settle(
    client_for, api_client, stripe_emulator, video, variants
):
    order = _checkout(
        client_for, api_client, stripe_emulator, [{"variant_id": variants[0]["id"], "quantity": 1}]
    )
    _enable(api_client, variants[0]["merchant_id"])
    deliver(order, delivered_ago=timedelta(days=29), window=timedelta(days=30))
    _video_hears_checkout(video)

    assert merchant_transfers_sweep() == {"settled": 0, "sent": 0, "reversed": 0}
    assert not MerchantTransfer.objects.exists()
    assert _balance(LedgerAccount.MERCHANT_PENDING, order.lines.get().merchant_id) == -(
        order.total_amount
    )


def test_a_merchant_not_enabled_gets_nothing_until_enabled(
    settings, client_for, api_client, stripe_emulator, video, variants
):
    settings.PLATFORM_FEE_BPS = 500
    merchant = variants[0]["merchant_id"]
    order = _checkout(
        client_for, api_client, stripe_emulator, [{"variant_id": variants[0]["id"], "quantity": 3}]
    )
    deliver(order, **SETTLED)
    _video_hears_checkout(video)

    assert merchant_transfers_sweep() == {"settled": 1, "sent": 0, "reversed": 0}
    transfer = MerchantTransfer.objects.get()
    assert transfer.status == "waiting"
    assert _stripe_transfers(stripe_emulator, order) == []
    owed = order.total_amount - _fee(order.total_amount, 500)
    assert _balance(LedgerAccount.MERCHANT_PAYABLE, uuid.UUID(merchant)) == -owed

    _enable(api_client, merchant)
    assert merchant_transfers_sweep() == {"settled": 0, "sent": 1, "reversed": 0}

    assert [t["amount"] for t in _stripe_transfers(stripe_emulator, order)] == [owed]
    assert _balance(LedgerAccount.MERCHANT_PAYABLE, uuid.UUID(merchant)) == 0
    _assert_balanced()


def test_a_refund_before_settlement_lowers_the_gross_and_the_fee_is_on_what_is_left(
    settings, client_for, api_client, stripe_emulator, video, variants
):
    settings.PLATFORM_FEE_BPS = 1_000
    order = _checkout(
        client_for, api_client, stripe_emulator, [{"variant_id": variants[0]["id"], "quantity": 2}]
    )
    _enable(api_client, variants[0]["merchant_id"])
    deliver(order, **SETTLED)
    order_refund(order=order, amount=301, created_by="admin:test", reason="goodwill")
    _video_hears_checkout(video)

    merchant_transfers_sweep()

    gross = order.total_amount - 301
    transfer = MerchantTransfer.objects.get()
    assert (transfer.gross_amount, transfer.fee_amount, transfer.amount) == (
        gross,
        _fee(gross, 1_000),
        gross - _fee(gross, 1_000),
    )
    assert [t["amount"] for t in _stripe_transfers(stripe_emulator, order)] == [transfer.amount]
    _assert_balanced()


def test_a_refund_after_the_transfer_reverses_exactly_the_merchants_share(
    settings, client_for, api_client, stripe_emulator, video, two_shops, sourced
):
    settings.PLATFORM_FEE_BPS = 500
    first, _ = two_shops
    order = _checkout(
        client_for,
        api_client,
        stripe_emulator,
        [{"variant_id": first["id"], "quantity": 2, "source": sourced}],
    )
    _enable(api_client, first["merchant_id"])
    deliver(order, **SETTLED)
    _video_hears_checkout(video)
    merchant_transfers_sweep()
    transfer = MerchantTransfer.objects.get()
    line = order.lines.get()

    order_refund(
        order=order, amount=1_001, created_by="admin:test", line_ids=[line.id], reason="damaged"
    )
    done = merchant_transfers_sweep()

    net = transfer.gross_amount - transfer.fee_amount - transfer.commission_amount
    merchant_part, fee_part, commission_part = allocate(
        1_001, [net, transfer.fee_amount, transfer.commission_amount]
    )
    assert done == {"settled": 0, "sent": 0, "reversed": 1}
    stripe_transfer = _stripe_transfers(stripe_emulator, order)[0]
    assert stripe_transfer["amount_reversed"] == merchant_part
    transfer.refresh_from_db()
    assert transfer.reversed_amount == merchant_part
    assert _balance(LedgerAccount.MERCHANT_PAYABLE, line.merchant_id) == 0
    assert _balance(LedgerAccount.PLATFORM_FEE_REVENUE) == -(transfer.fee_amount - fee_part)
    assert _balance(LedgerAccount.CREATOR_COMMISSION_PAYABLE, line.merchant_id) == -(
        transfer.commission_amount - commission_part
    )
    assert _balance(LedgerAccount.PLATFORM_CASH, order_id=order.id) == (
        order.total_amount - 1_001 - transfer.amount + merchant_part
    )
    _assert_balanced()
    assert merchant_transfers_sweep() == {"settled": 0, "sent": 0, "reversed": 0}
    kinds = sorted(LedgerEntry.objects.filter(order_id=order.id).values_list("kind", flat=True))
    assert kinds == ["order_paid", "refund", "settlement", "transfer", "transfer_reversal"]


def test_replayed_payment_and_refund_events_post_once(
    client_for, api_client, stripe_emulator, variants
):
    order = _checkout(
        client_for, api_client, stripe_emulator, [{"variant_id": variants[0]["id"], "quantity": 1}]
    )
    for _ in range(3):  # redelivered, and a new event id for the same payment
        webhook_post(api_client, stripe_event("payment_intent.succeeded", intent_object(order)))
    order_refund(order=order, amount=100, created_by="admin:test")
    refund = order.refunds.get()
    with transaction.atomic():
        refund_post(Order.objects.get(id=order.id), refund)

    kinds = list(LedgerEntry.objects.order_by("id").values_list("kind", "source_key"))
    assert kinds == [("order_paid", f"order_paid:{order.id}"), ("refund", f"refund:{refund.id}")]
    assert _balance(LedgerAccount.PLATFORM_CASH) == order.total_amount - 100
    _assert_balanced()


def test_the_database_refuses_an_unbalanced_entry_and_any_change_to_the_ledger():
    with pytest.raises(IntegrityError), transaction.atomic():
        entry_post(
            kind="refund",
            source_key="unbalanced",
            currency="EUR",
            postings=[
                Posting(LedgerAccount.PLATFORM_CASH, 100),
                Posting(LedgerAccount.PLATFORM_FEE_REVENUE, -99),
            ],
        )
    with pytest.raises(IntegrityError), transaction.atomic():
        entry = LedgerEntry.objects.create(kind="refund", source_key="one-legged")
        LedgerPosting.objects.create(
            entry=entry, account=LedgerAccount.PLATFORM_CASH, currency="EUR", amount=5
        )
        with connection.cursor() as cursor:
            cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")
    entry = entry_post(
        kind="refund",
        source_key="fine",
        currency="EUR",
        postings=[
            Posting(LedgerAccount.PLATFORM_CASH, 100),
            Posting(LedgerAccount.PLATFORM_FEE_REVENUE, -100),
        ],
    )
    assert entry is not None
    with pytest.raises(IntegrityError), transaction.atomic():
        LedgerPosting.objects.filter(entry=entry).update(amount=1)
    with pytest.raises(IntegrityError), transaction.atomic():
        LedgerEntry.objects.filter(id=entry.id).delete()
    assert sorted(entry.postings.values_list("amount", flat=True)) == [-100, 100]
    _assert_balanced()


@pytest.mark.concurrency
@pytest.mark.django_db(transaction=True)
def test_two_sweeps_at_once_settle_and_transfer_once(
    client_for, api_client, stripe_emulator, video, variants
):
    order = _checkout(
        client_for, api_client, stripe_emulator, [{"variant_id": variants[0]["id"], "quantity": 1}]
    )
    _enable(api_client, variants[0]["merchant_id"])
    deliver(order, **SETTLED)
    _video_hears_checkout(video)
    barrier = threading.Barrier(2)
    outcomes: list[Any] = []

    def sweep() -> None:
        try:
            barrier.wait()
            outcomes.append(merchant_transfers_sweep())
        except Exception as error:
            outcomes.append(repr(error))
        finally:
            connections.close_all()

    threads = [threading.Thread(target=sweep) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)

    assert sum(outcome["sent"] for outcome in outcomes) == 1, outcomes
    assert sum(outcome["settled"] for outcome in outcomes) == 1, outcomes
    assert len(_stripe_transfers(stripe_emulator, order)) == 1
    assert MerchantTransfer.objects.get().status == "sent"
    assert LedgerEntry.objects.filter(kind="transfer").count() == 1
    _assert_balanced()


# --- creators' payouts (ADR 33): video pays creators and posts each payout here once ------

PAYOUTS_URL = "/internal/v1/creator-payouts/"


@pytest.fixture
def video_service() -> APIClient:
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Service {service_token_mint(service='video')}")
    return client


def _payout(shares: list[tuple[str, int]], **fields: Any) -> dict[str, Any]:
    return {
        "payout_id": str(uuid.uuid4()),
        "creator_id": str(uuid.uuid4()),
        "currency": "EUR",
        "amount": sum(amount for _, amount in shares),
        "stripe_transfer_id": "tr_test",
        "merchants": [{"merchant_id": m, "amount": amount} for m, amount in shares],
        **fields,
    }


def _post(client: APIClient, body: dict):
    return client.post(PAYOUTS_URL, body, format="json", HTTP_IDEMPOTENCY_KEY=str(uuid.uuid4()))


def test_a_payout_of_the_settled_commission_empties_what_is_owed_to_creators(
    settings, client_for, api_client, stripe_emulator, video, two_shops, sourced, video_service
):
    first, _ = two_shops
    order = _checkout(
        client_for,
        api_client,
        stripe_emulator,
        [{"variant_id": first["id"], "quantity": 2, "source": sourced}],
    )
    _enable(api_client, first["merchant_id"])
    deliver(order, **SETTLED)
    _video_hears_checkout(video)
    merchant_transfers_sweep()
    merchant = uuid.UUID(first["merchant_id"])
    commission = _commission(order.lines.get().line_total_amount)
    assert _balance(LedgerAccount.CREATOR_COMMISSION_PAYABLE, merchant) == -commission
    cash = _balance(LedgerAccount.PLATFORM_CASH)
    assert cash == _stripe_available(stripe_emulator, order.currency)
    # What video does: the creator's payout, a transfer from the platform's balance.
    creator = _creator(stripe_emulator)
    paid = stripe_client(stripe_emulator, STRIPE_KEY).v1.transfers.create(
        {"amount": commission, "currency": order.currency.lower(), "destination": creator}
    )
    body = _payout([(first["merchant_id"], commission)], stripe_transfer_id=paid.id)

    response = _post(video_service, body)
    replay = _post(video_service, body)

    assert response.status_code == 200, response.json()
    assert (response.json(), replay.json()) == ({"recorded": True}, {"recorded": False})
    assert LedgerEntry.objects.filter(kind="creator_payout").count() == 1
    assert _balance(LedgerAccount.CREATOR_COMMISSION_PAYABLE, merchant) == 0
    assert _balance(LedgerAccount.PLATFORM_CASH) == cash - commission
    # The books say what Stripe holds for the platform, to the cent.
    assert _balance(LedgerAccount.PLATFORM_CASH) == _stripe_available(
        stripe_emulator, order.currency
    )
    _assert_balanced()


def _stripe_available(emulator: str, currency: str) -> int:
    balance = stripe_client(emulator, STRIPE_KEY).v1.balance.retrieve()
    return sum(row.amount for row in balance.available if row.currency == currency.lower())


def _creator(emulator: str) -> str:
    """A creator's Express account at the emulator, onboarded (as video makes them)."""
    client = stripe_client(emulator, STRIPE_KEY)
    account = client.v1.accounts.create(
        {"type": "express", "capabilities": {"transfers": {"requested": True}}}
    )
    link = client.v1.account_links.create(
        {
            "account": account.id,
            "type": "account_onboarding",
            "refresh_url": "https://app.example/refresh",
            "return_url": "https://app.example/return",
        }
    )
    complete_account_link(link.url)
    return str(account.id)


def test_a_clawback_netted_against_another_merchants_commission_posts_both_shares(
    video_service,
):
    owed, clawed = str(uuid.uuid4()), str(uuid.uuid4())

    response = _post(video_service, _payout([(owed, 900), (clawed, -200)]))

    assert response.status_code == 200, response.json()
    assert _balance(LedgerAccount.CREATOR_COMMISSION_PAYABLE, uuid.UUID(owed)) == 900
    assert _balance(LedgerAccount.CREATOR_COMMISSION_PAYABLE, uuid.UUID(clawed)) == -200
    assert _balance(LedgerAccount.PLATFORM_CASH) == -700
    _assert_balanced()


def test_shares_that_do_not_add_up_are_422_and_nothing_is_posted(video_service):
    body = _payout([(str(uuid.uuid4()), 500)], amount=600)

    response = _post(video_service, body)

    assert response.status_code == 422
    assert response.json()["code"] == "payout_shares_mismatch"
    assert not LedgerEntry.objects.exists()


@pytest.mark.parametrize(
    "change",
    [
        {"amount": 0},
        {"amount": -5},
        {"amount": "500"},
        {"currency": "EURO"},
        {"currency": "eur"},
        {"merchants": []},
        {"payout_id": "x"},
    ],
)
def test_bad_input_is_400_and_nothing_is_posted(video_service, change):
    response = _post(video_service, _payout([(str(uuid.uuid4()), 500)], **change))

    assert response.status_code == 400, response.json()
    assert not LedgerEntry.objects.exists()


def test_a_bad_merchant_share_is_400(video_service):
    body = _payout([(str(uuid.uuid4()), 500)])
    body["merchants"] = [{"merchant_id": "nope", "amount": 500}]

    assert _post(video_service, body).status_code == 400


def test_only_other_services_may_post(api_client, client_for):
    body = _payout([(str(uuid.uuid4()), 500)])

    assert api_client.post(PAYOUTS_URL, body, format="json").status_code == 401
    assert client_for("buyer").post(PAYOUTS_URL, body, format="json").status_code == 403
    assert not LedgerEntry.objects.exists()
