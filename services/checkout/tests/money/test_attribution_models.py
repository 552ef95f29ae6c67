"""Each merchant's transfer under the attribution model it chose (issue 16): a
two-merchant order credited to two creators, for each of the five models; the order's
books hold captured - refunded = merchant payables + creator payables + platform fees."""

from __future__ import annotations

import uuid
from datetime import timedelta
from typing import Any

import pytest

from orders.models import MerchantPolicy, Order
from orders.services.transfers import merchant_transfers_sweep
from payments.models import (
    LedgerAccount,
    LedgerPosting,
    MerchantTransfer,
)
from tests.after_payment import deliver
from tests.money.conftest import (
    SETTLED,
    _assert_balanced,
    _balance,
    _checkout,
    _enable,
    _fee,
    _shares,
    _stripe_transfers,
    _video_hears_checkout,
    _video_hook,
)

pytestmark = pytest.mark.django_db

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
