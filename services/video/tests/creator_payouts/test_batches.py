"""Creators' payouts in batches (issue 16, ADR 33): a creator's settled commission, less
clawbacks, paid by a Stripe transfer to their enabled Connect account, once per (account,
batch); below the minimum or without an enabled account it rolls over; a refund after
payment claws back from later payouts and a negative balance carries forward; Stripe
unreachable or refusing. The real stripe SDK against the localstripe emulator."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.db import DatabaseError, transaction
from django.utils import timezone

from clipcart_shared.outbox.services import event_consume
from clipcart_tools.localstripe import (
    complete_account_link,
    restrict_account,
    stripe_client,
)
from clipcart_tools.testing.services import free_port
from payouts.batches import batch_of, creator_payouts_run
from payouts.models import BalanceEntry, CreatorPayout, CreatorPayoutAccount
from payouts.services import creator_payout_account_onboard
from tests.creator_payouts.conftest import (
    NOW,
    STRIPE_KEY,
    T1,
    T2,
    T3,
    WEEK,
    enabled_account,
    refund,
    settled_sale,
    summary,
    transfers_to,
)
from tests.factories import (
    order_delivered,
    order_paid,
    paid_line,
)

pytestmark = pytest.mark.django_db


def test_settled_commission_is_paid_in_the_next_batch_once_however_often_it_runs(
    stripe_emulator, tag
):
    creator = tag.video.creator
    account = enabled_account(creator, stripe_emulator)
    settled_sale(tag, 4000)
    settled_sale(tag, 6000)

    first = creator_payouts_run(now=T1)  # freezes the settled commission: for the next batch
    assert first["frozen"] == 2 and first["made"] == 0
    assert summary(creator, T1)["next_payout"]["amounts"] == [
        {"currency": "EUR", "amount": 1000, "status": "scheduled"}
    ]
    second = creator_payouts_run(now=T2)
    again = creator_payouts_run(now=T2 + timedelta(hours=1))  # a redelivered run

    assert (second["made"], second["sent"], again["made"], again["sent"]) == (1, 1, 0, 0)
    payout = CreatorPayout.objects.get()
    assert (payout.amount, payout.currency, payout.status, payout.batch) == (
        1000,
        "EUR",
        "sent",
        batch_of(T2),
    )
    assert payout.stripe_account_id == account.stripe_account_id
    assert transfers_to(stripe_emulator, account) == [(1000, "eur")]
    assert summary(creator, T2)["payouts"] == [
        {"currency": "EUR", "paid_out": 1000, "clawed_back": 0, "balance": 0}
    ]


def test_the_earnings_answer_shows_the_payouts_and_the_next_one(client_for, stripe_emulator, tag):
    enabled_account(tag.video.creator, stripe_emulator)
    settled_sale(tag, 7000)
    creator_payouts_run(now=timezone.now())

    response = client_for("ada").get("/api/v1/creators/me/earnings/")

    assert response.status_code == 200, response.json()
    body = response.json()
    assert body["payouts"] == [{"currency": "EUR", "paid_out": 0, "clawed_back": 0, "balance": 700}]
    assert body["next_payout"]["amounts"] == [
        {"currency": "EUR", "amount": 700, "status": "scheduled"}
    ]
    assert body["next_payout"]["minimum"] == 500
    assert body["next_payout"]["on"].startswith(
        (batch_of(timezone.now()) + WEEK).date().isoformat()
    )


def test_a_creator_without_sales_or_account_has_no_payouts(client_for, tag):
    body = client_for("ada").get("/api/v1/creators/me/earnings/").json()

    assert body["payouts"] == [] and body["next_payout"]["amounts"] == []


def test_below_the_minimum_it_rolls_over_to_a_later_batch(stripe_emulator, tag):
    creator = tag.video.creator
    account = enabled_account(creator, stripe_emulator)
    settled_sale(tag, 3000)  # 300 < 500
    creator_payouts_run(now=T1)

    assert creator_payouts_run(now=T2)["made"] == 0
    assert summary(creator, T2)["next_payout"]["amounts"][0]["status"] == "below_minimum"
    settled_sale(tag, 2500)
    creator_payouts_run(now=T2)  # frozen now, paid in the next batch
    assert creator_payouts_run(now=T3)["sent"] == 1

    assert transfers_to(stripe_emulator, account) == [(550, "eur")]


def test_an_account_not_enabled_accrues_and_enabling_it_releases_the_batch(stripe_emulator, tag):
    creator = tag.video.creator
    settled_sale(tag, 8000)
    creator_payouts_run(now=T1)
    onboarding = creator_payout_account_onboard(creator=creator)  # pending

    assert creator_payouts_run(now=T2)["made"] == 0
    assert summary(creator, T2)["next_payout"]["amounts"][0]["status"] == "account_not_enabled"
    complete_account_link(onboarding)
    CreatorPayoutAccount.objects.filter(creator=creator).update(status="enabled")
    assert summary(creator, T2)["next_payout"]["amounts"][0]["status"] == "due"
    result = creator_payouts_run(now=T2 + timedelta(hours=3))  # the same batch, later

    assert result["sent"] == 1
    assert CreatorPayout.objects.get().amount == 800


def test_a_refund_after_payout_claws_back_and_a_negative_balance_carries_forward(
    stripe_emulator, tag
):
    creator = tag.video.creator
    account = enabled_account(creator, stripe_emulator)
    settled_sale(tag, 4000)
    paid, line = settled_sale(tag, 6000)
    creator_payouts_run(now=T1)
    creator_payouts_run(now=T2)  # pays 1000
    refund(paid, line, 6000)  # the 600 of that line was paid: clawed back
    settled_sale(tag, 5000)  # 500 more owed, less than the clawback

    creator_payouts_run(now=T2 + timedelta(hours=1))
    assert creator_payouts_run(now=T3)["made"] == 0  # -100: nothing sent, no debit
    assert summary(creator, T3)["payouts"] == [
        {"currency": "EUR", "paid_out": 1000, "clawed_back": 600, "balance": -100}
    ]
    kinds = sorted(BalanceEntry.objects.values_list("kind", "amount"))
    assert ("clawback", -600) in kinds
    settled_sale(tag, 9000)  # 900: 800 left after the carried clawback
    creator_payouts_run(now=T3)
    creator_payouts_run(now=T3 + WEEK)

    assert transfers_to(stripe_emulator, account) == [(800, "eur"), (1000, "eur")]
    assert summary(creator, T3 + WEEK)["payouts"][0]["balance"] == 0


def test_a_refund_before_settlement_nets_out_and_is_no_clawback(stripe_emulator, tag):
    creator = tag.video.creator
    enabled_account(creator, stripe_emulator)
    line = paid_line(tag, 10_000)
    paid = order_paid("buyer", [line], NOW - timedelta(minutes=5))
    event_consume(envelope=paid)
    refund(paid, line["line_id"], 4000)
    event_consume(
        envelope=order_delivered(
            paid, {line["line_id"]: 1}, NOW - timedelta(minutes=4), NOW - timedelta(days=1)
        )
    )
    creator_payouts_run(now=T1)

    assert summary(creator, T1)["payouts"] == [
        {"currency": "EUR", "paid_out": 0, "clawed_back": 0, "balance": 600}
    ]


def test_stripe_unreachable_leaves_it_sending_and_the_retry_uses_the_same_key(
    stripe_emulator, tag, settings
):
    creator = tag.video.creator
    account = enabled_account(creator, stripe_emulator)
    settled_sale(tag, 12_000)
    creator_payouts_run(now=T1)
    settings.STRIPE_API_BASE = f"http://127.0.0.1:{free_port()}"

    assert creator_payouts_run(now=T2)["sent"] == 0
    payout = CreatorPayout.objects.get()
    assert payout.status == "sending" and "unreachable" in payout.last_failure
    # The lost answer: Stripe had made the transfer under the payout's key.
    made = stripe_client(stripe_emulator, STRIPE_KEY).v1.transfers.create(
        {
            "amount": 1200,
            "currency": "eur",
            "destination": account.stripe_account_id,
            "transfer_group": f"creator-payout-{payout.id}",
            "metadata": {
                "creator_id": str(creator.id),
                "payout_id": str(payout.id),
                "batch": payout.batch.isoformat(),
            },
        },
        {"idempotency_key": f"clipcart-creator-payout-{payout.id}"},
    )
    settings.STRIPE_API_BASE = stripe_emulator
    assert creator_payouts_run(now=T2 + timedelta(minutes=5))["sent"] == 0  # within the lease
    assert creator_payouts_run(now=T2 + timedelta(hours=1))["sent"] == 1  # past the lease

    payout.refresh_from_db()
    assert (payout.status, payout.stripe_transfer_id) == ("sent", made.id)
    assert transfers_to(stripe_emulator, account) == [(1200, "eur")]


def test_stripe_refusing_gives_the_balance_back_for_the_next_batch(stripe_emulator, tag):
    creator = tag.video.creator
    account = enabled_account(creator, stripe_emulator)
    settled_sale(tag, 9000)
    creator_payouts_run(now=T1)
    # Stripe restricted it and the event has not arrived yet: Stripe refuses the transfer.
    restrict_account(stripe_emulator, account.stripe_account_id)

    assert creator_payouts_run(now=T2)["sent"] == 0
    payout = CreatorPayout.objects.get()
    assert payout.status == "failed" and "refused" in payout.last_failure
    assert summary(creator, T2)["payouts"][0]["balance"] == 900
    assert transfers_to(stripe_emulator, account) == []


def test_balance_entries_are_append_only(stripe_emulator, tag):
    settled_sale(tag, 4000)
    creator_payouts_run(now=T1)
    entry = BalanceEntry.objects.get()
    with pytest.raises(DatabaseError), transaction.atomic():
        BalanceEntry.objects.filter(id=entry.id).update(amount=1)
    with pytest.raises(DatabaseError), transaction.atomic():
        BalanceEntry.objects.filter(id=entry.id).delete()
