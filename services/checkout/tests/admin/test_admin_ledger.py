"""The admin's side of money out (ADR 30): merchant transfers scoped per merchant like
the other admins, the ledger for platform staff only and read-only, and the audit on
the home."""

from __future__ import annotations

import uuid

import pytest

from orders.admin.home import ledger_panel
from payments.ledger import Posting, entry_post
from payments.models import LedgerAccount, LedgerEntry, MerchantTransfer
from tests.admin.conftest import ADMIN

pytestmark = pytest.mark.django_db
TRANSFERS = f"{ADMIN}/payments/merchanttransfer/"
LEDGER = f"{ADMIN}/payments/ledgerentry/"


def _transfer(merchant_id: uuid.UUID) -> MerchantTransfer:
    return MerchantTransfer.objects.create(
        order_id=uuid.uuid4(),
        merchant_id=merchant_id,
        currency="EUR",
        gross_amount=1_000,
        fee_rate_bps=500,
        fee_amount=50,
        commission_amount=100,
        amount=850,
    )


def test_merchant_staff_see_their_transfers_only_and_not_the_ledger(
    staff_client, merchant_a, merchant_b
):
    mine, theirs = _transfer(merchant_a), _transfer(merchant_b)

    listed = staff_client.get(TRANSFERS)
    other = staff_client.get(f"{TRANSFERS}{theirs.id}/change/")
    ledger = staff_client.get(LEDGER)

    assert listed.status_code == 200
    assert [row.id for row in listed.context["cl"].result_list] == [mine.id]
    assert other.status_code == 404
    assert ledger.status_code == 403
    assert staff_client.post(f"{TRANSFERS}{mine.id}/delete/").status_code == 403


def test_platform_staff_read_the_ledger_and_the_home_shows_it_balanced(superuser_client):
    entry = entry_post(
        kind=LedgerEntry.Kind.REFUND,
        source_key="test:one",
        currency="EUR",
        postings=[
            Posting(LedgerAccount.PLATFORM_CASH, 250),
            Posting(LedgerAccount.PLATFORM_FEE_REVENUE, -250),
        ],
    )
    assert entry is not None
    _transfer(uuid.uuid4())

    listed = superuser_client.get(LEDGER)
    page = superuser_client.get(f"{LEDGER}{entry.id}/change/")
    panel = ledger_panel()

    assert [row.id for row in listed.context["cl"].result_list] == [entry.id]
    assert page.status_code == 200
    assert "platform_cash" in page.content.decode()
    assert superuser_client.post(f"{LEDGER}{entry.id}/delete/").status_code == 403
    figures = {figure.label: figure for figure in panel.figures}
    assert figures["Ledger audit"].value == "balanced"
    assert figures["Ledger audit"].hint.startswith("sum of postings per currency: €0.00")
    assert figures["Transfers waiting"].value == "1"
    waiting = superuser_client.get(figures["Transfers waiting"].url)
    assert waiting.context["cl"].result_count == 1
