"""Creators' payouts in batches (issue 16, ADR 33): a creator's settled commission, less
clawbacks, paid by a Stripe transfer to their enabled Connect account, once per (account,
batch) whatever the redelivery or concurrency; below the minimum or without an enabled
account it rolls over; a refund after payment claws back from later payouts and a
negative balance carries forward. The real stripe SDK against the localstripe emulator
(its Connect); sales fed by checkout's events through the real handlers."""

from __future__ import annotations

import threading
import uuid
from collections.abc import Iterator
from datetime import datetime, timedelta
from typing import Any

import pytest
from django.db import DatabaseError, connections, transaction
from django.utils import timezone

from clipcart_shared.outbox.services import event_consume
from clipcart_tools.localstripe import (
    complete_account_link,
    localstripe_server,
    restrict_account,
    stripe_client,
)
from clipcart_tools.testing.services import free_port
from core.checkout import checkout_client
from payouts.batches import batch_of, creator_payouts_run
from payouts.models import BalanceEntry, CreatorPayout, CreatorPayoutAccount
from payouts.selectors import creator_payouts_summary
from payouts.services import creator_payout_account_onboard
from tests.factories import (
    CreatorFactory,
    ProductTagFactory,
    VideoFactory,
    engagement_event,
    order_delivered,
    order_paid,
    order_refunded,
    paid_line,
)

pytestmark = pytest.mark.django_db

STRIPE_KEY = "sk_test_localstripe"
WEEK = timedelta(days=7)
NOW = timezone.now()
# A batch well after the sales below have settled, and the ones after it.
T1 = batch_of(NOW) + 2 * WEEK + timedelta(hours=1)
T2 = T1 + WEEK
T3 = T2 + WEEK


@pytest.fixture(scope="module")
def _emulator() -> Iterator[str]:
    with localstripe_server() as base_url:
        # The platform's balance, which payouts are paid from (no source_transaction).
        stripe_client(base_url, STRIPE_KEY).v1.payment_intents.create(
            {
                "amount": 10_000_000,
                "currency": "eur",
                "payment_method": "pm_card_visa",
                "confirm": True,
            }
        )
        yield base_url


@pytest.fixture
def stripe_emulator(_emulator: str, settings) -> str:
    settings.STRIPE_API_BASE = _emulator
    settings.STRIPE_SECRET_KEY = STRIPE_KEY
    settings.CREATOR_PAYOUT_PERIOD_SECONDS = int(WEEK.total_seconds())
    settings.CREATOR_PAYOUT_MINIMUM_AMOUNT = 500
    # Recording in checkout's ledger has its own test; here checkout is not there.
    settings.CHECKOUT_URL = f"http://127.0.0.1:{free_port()}"
    return _emulator


@pytest.fixture
def tag():
    """Ada's video (10 % commission), which the buyer tapped an hour ago."""
    tag = ProductTagFactory(
        video=VideoFactory(creator=CreatorFactory(user_id="ada", commission_rate_bps=1000))
    )
    engagement_event("buyer", tag.video, "tag_tap", NOW - timedelta(hours=1))
    return tag


def enabled_account(creator, base_url: str) -> CreatorPayoutAccount:
    """The creator's Express account at the emulator, onboarded (transfers active), its
    row `enabled` (as the signed `account.updated` sets it: tested in test_payouts)."""
    complete_account_link(creator_payout_account_onboard(creator=creator))
    CreatorPayoutAccount.objects.filter(creator=creator).update(status="enabled")
    return CreatorPayoutAccount.objects.get(creator=creator)


def settled_sale(tag, amount: int) -> tuple[dict[str, Any], str]:
    """A sale of `amount` bought from the tag, delivered, its window closed a day ago."""
    line = paid_line(tag, amount)
    paid = order_paid("buyer", [line], NOW - timedelta(minutes=5))
    assert event_consume(envelope=paid) is True
    delivered = order_delivered(
        paid, {line["line_id"]: 1}, NOW - timedelta(minutes=4), NOW - timedelta(days=1)
    )
    assert event_consume(envelope=delivered) is True
    return paid, line["line_id"]


def refund(paid: dict[str, Any], line_id: str, amount: int) -> None:
    assert event_consume(envelope=order_refunded(paid, {line_id: amount}, timezone.now())) is True


def transfers_to(base_url: str, account: CreatorPayoutAccount) -> list[tuple[int, str]]:
    listed = stripe_client(base_url, STRIPE_KEY).v1.transfers.list(
        {"destination": account.stripe_account_id, "limit": 100}
    )
    return sorted((transfer.amount, transfer.currency) for transfer in listed.data)


def summary(creator, at: datetime) -> dict[str, Any]:
    return creator_payouts_summary(creator=creator, now=at)


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


@pytest.mark.django_db(transaction=True)
def test_concurrent_runs_pay_once(stripe_emulator):
    tag = ProductTagFactory(
        video=VideoFactory(creator=CreatorFactory(user_id="ada", commission_rate_bps=1000))
    )
    engagement_event("buyer", tag.video, "tag_tap", NOW - timedelta(hours=1))
    account = enabled_account(tag.video.creator, stripe_emulator)
    settled_sale(tag, 20_000)
    creator_payouts_run(now=T1)
    barrier = threading.Barrier(2)
    results: list[dict[str, int]] = []

    def run() -> None:
        try:
            barrier.wait()
            results.append(creator_payouts_run(now=T2))
        finally:
            connections.close_all()

    threads = [threading.Thread(target=run) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert sum(result["made"] for result in results) == 1
    assert CreatorPayout.objects.count() == 1
    assert transfers_to(stripe_emulator, account) == [(2000, "eur")]


def test_a_sent_payout_is_recorded_in_checkouts_ledger_once(stripe_emulator, tag, checkout):
    creator = tag.video.creator
    enabled_account(creator, stripe_emulator)
    settled_sale(tag, 5000)
    creator_payouts_run(now=T1)

    result = creator_payouts_run(now=T2)

    assert (result["sent"], result["recorded"]) == (1, 1)
    payout = CreatorPayout.objects.get()
    assert payout.ledger_recorded_at is not None
    again = checkout_client().post(
        "/internal/v1/creator-payouts/",
        json={
            "payout_id": str(payout.id),
            "creator_id": str(creator.id),
            "currency": "EUR",
            "amount": 500,
            "stripe_transfer_id": payout.stripe_transfer_id,
            "merchants": [{"merchant_id": str(tag.merchant_id), "amount": 500}],
        },
        idempotency_key=str(uuid.uuid4()),
    )
    assert again == {"recorded": False}


def test_platform_staff_read_payouts_and_balances_in_the_admin_merchant_staff_do_not(
    stripe_emulator, tag, superuser_client, staff_client
):
    enabled_account(tag.video.creator, stripe_emulator)
    settled_sale(tag, 6000)
    creator_payouts_run(now=T1)
    creator_payouts_run(now=T2)
    payout = CreatorPayout.objects.get()
    pages = ["/video/admin/payouts/creatorpayout/", "/video/admin/payouts/balanceentry/"]

    listed = [superuser_client.get(page) for page in pages]

    assert [page.status_code for page in listed] == [200, 200]
    assert payout.stripe_transfer_id in listed[0].content.decode()
    assert {row.kind for row in listed[1].context["cl"].result_list} == {"commission", "payout"}
    assert [staff_client.get(page).status_code for page in pages] == [403, 403]
    assert superuser_client.post(f"{pages[0]}{payout.id}/delete/").status_code == 403


def test_the_payout_run_is_on_beat_and_registered_by_the_worker(settings):
    from config.celery import app

    app.loader.import_default_modules()  # what a worker does at start: autodiscovery

    assert settings.CELERY_BEAT_SCHEDULE["creator-payouts"]["task"] == "payouts.creator_payouts_run"
    assert "payouts.creator_payouts_run" in app.tasks
