"""Creators' payouts (ADR 33): concurrent runs pay once, a sent payout is recorded in
checkout's ledger once, platform staff read them in the admin, and the run is on beat."""

from __future__ import annotations

import threading
import uuid
from datetime import timedelta

import pytest
from django.db import connections

from core.checkout import checkout_client
from payouts.batches import creator_payouts_run
from payouts.models import CreatorPayout
from tests.creator_payouts.conftest import (
    NOW,
    T1,
    T2,
    enabled_account,
    settled_sale,
    transfers_to,
)
from tests.factories import (
    CreatorFactory,
    ProductTagFactory,
    VideoFactory,
    engagement_event,
)

pytestmark = pytest.mark.django_db


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
